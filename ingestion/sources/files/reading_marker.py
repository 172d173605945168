"""A reader crash cannot repeat: the landing file being parsed is named in a marker.

Parsers are bounded (``bounds``), but a native crash (a segmentation fault in a parser) ends
the process with no exception to catch, and the next run would read the same file and die the
same way, forever. So before a resource parses a file it writes ``{"file", "run", "pid",
"deaths"}`` to a small marker (written to a temporary name and renamed over, so it is whole or
absent) and removes it once the parse has ended, whatever way it ended in Python. While the
resource runs, Python's ``faulthandler`` writes the traceback of a fatal signal (SIGSEGV,
SIGBUS, SIGABRT, SIGFPE, SIGILL) to a file beside the marker.

A run that finds a marker left behind knows the process died while parsing that file:

- with a fatal-signal traceback beside it, the reader crashed on it: the file is quarantined
  with that reason at once, never read again;
- without one (SIGKILL: an operator, a test, the out-of-memory killer; a power loss), the
  death may have nothing to do with the file, so it is read again, once: a second death on
  the same file quarantines it (``MAX_UNEXPLAINED_DEATHS``).

The marker has to outlive the process, not the machine, so it is not fsynced. It lives in the
quarantine folder (``.reading/<resource>.json``), beside the landing folder it describes.
Parsing is never concurrent within a resource (``EventsReadAhead`` starts the next file only
once the current one is parsed), so a marker names the one file that was parsing. Use as a
context manager around the resource's reading (it enables and restores ``faulthandler``).
"""

from __future__ import annotations

import datetime as dt
import faulthandler
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ingestion.sources.validation import current_load_id

log = logging.getLogger(__name__)

MARKER_FOLDER = ".reading"
MAX_UNEXPLAINED_DEATHS = 2
"""Deaths without a fatal-signal traceback while parsing one file before it is quarantined:
one may be a kill that had nothing to do with the file, two in a row on the same file are not."""


class ReadingMarker:
    """The marker of one resource: which of its landing files is being parsed."""

    def __init__(self, quarantine_dir: Path, resource: str) -> None:
        self.path = quarantine_dir / MARKER_FOLDER / f"{resource}.json"
        self.fatal_path = self.path.with_suffix(".fatal")
        # taken here, in the resource: dlt's current load is not known in a read-ahead thread
        self.load_id = current_load_id()
        self._deaths: dict[str, int] = {}
        self._fatal: IO[str] | None = None
        self._handler_was_enabled = False

    def __enter__(self) -> ReadingMarker:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fatal = self.fatal_path.open("w", encoding="utf-8")
        self._handler_was_enabled = faulthandler.is_enabled()
        faulthandler.enable(file=self._fatal, all_threads=True)
        return self

    def __exit__(self, *exc_info: object) -> None:
        faulthandler.disable()
        if self._handler_was_enabled:
            try:
                faulthandler.enable()
            except (AttributeError, ValueError, OSError):  # stderr without a file descriptor
                log.debug("faulthandler not restored: stderr has no file descriptor")
        if self._fatal is not None:
            self._fatal.close()
            self._fatal = None
        self.fatal_path.unlink(missing_ok=True)

    def left_by_crash(self) -> tuple[str, str] | None:
        """``(file, quarantine reason)`` when a crashed run left a marker whose file must not
        be read again; None otherwise (a first unexplained death: the file is read again).
        Call before entering the marker: the marker and the traceback are then forgotten."""
        fatal = _read(self.fatal_path).strip()
        text = _read(self.path)
        self.path.unlink(missing_ok=True)
        if not text:
            if fatal:
                log.warning("the last run died outside any file's parsing:\n%s", fatal)
            return None
        try:
            found = json.loads(text)
            name, run = str(found["file"]), str(found.get("run") or "")
            deaths = int(found.get("deaths") or 0) + 1
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an unreadable reading marker %s: %r", self.path, text[:200])
            return None
        if fatal:
            log.error("the reader crashed on %s in the run of %s:\n%s", name, run, fatal)
            return name, crash_reason(run, fatal.splitlines()[0])
        if deaths >= MAX_UNEXPLAINED_DEATHS:
            log.error("the process died %d times while parsing %s", deaths, name)
            return name, crash_reason(run, f"the process died {deaths} times while parsing it")
        log.warning("the last run died while parsing %s (no fatal signal): reading it again", name)
        self._deaths[name] = deaths
        return None

    @contextmanager
    def reading(self, name: str) -> Iterator[None]:
        """Name ``name`` in the marker while the block runs; removed however it ends in Python."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        run = f"{started}, load {self.load_id}" if self.load_id else started
        content = {"file": name, "run": run, "pid": os.getpid(), "deaths": self._deaths.get(name)}
        scratch.write_text(json.dumps(content), encoding="utf-8")
        os.replace(scratch, self.path)
        try:
            yield
        finally:
            self.path.unlink(missing_ok=True)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return ""


def crash_reason(run: str, what: str) -> str:
    """The quarantine reason of a file a reader crashed on (``what``: how it died)."""
    where = f"in the run of {run} " if run else ""
    return (
        f"the reader crashed on this file {where}({what}); quarantined rather than read "
        "again: if the crash had another cause, move the file back into the landing folder"
    )
