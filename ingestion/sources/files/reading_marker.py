"""A reader crash cannot repeat: the landing file being parsed is named in a marker.

Parsers are bounded (``bounds``), but a native crash (a segmentation fault in a parser, the
kernel's out-of-memory killer) ends the process with no exception to catch, and the next run
would read the same file and die the same way, forever. So before a resource parses a file it
writes ``{"file": ..., "run": ..., "pid": ...}`` (``run``: the load id and the time the
reading began) to a small marker (written to a temporary
name and renamed over, so it is whole or absent), and removes it once the parse has ended,
whatever way it ended in Python. A run that finds a marker left behind knows the process died
while parsing that file: the file is quarantined with that reason instead of being read again.

The marker has to outlive the process, not the machine, so it is not fsynced: after a power
loss the file is simply read again, which is right, since the file did not cause that crash.
It lives in the quarantine folder (``.reading/<resource>.json``), beside the landing folder it
describes. Parsing is never concurrent within a resource (``EventsReadAhead`` starts the next
file only once the current one is parsed), so a marker names the one file that was parsing.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingestion.sources.validation import current_load_id

log = logging.getLogger(__name__)

MARKER_FOLDER = ".reading"


class ReadingMarker:
    """The marker of one resource: which of its landing files is being parsed."""

    def __init__(self, quarantine_dir: Path, resource: str) -> None:
        self.path = quarantine_dir / MARKER_FOLDER / f"{resource}.json"
        # taken here, in the resource: dlt's current load is not known in a read-ahead thread
        self.load_id = current_load_id()

    def left_by_crash(self) -> tuple[str, str] | None:
        """``(file, run)`` of a marker a crashed run left behind, then forgets it; else None.

        ``run`` is the load id of the run that died (empty when unknown).
        """
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        self.path.unlink(missing_ok=True)
        try:
            found = json.loads(text)
            return str(found["file"]), str(found.get("run") or "")
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an unreadable reading marker %s: %r", self.path, text[:200])
            return None

    @contextmanager
    def reading(self, name: str) -> Iterator[None]:
        """Name ``name`` in the marker while the block runs; removed however it ends in Python."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        scratch = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        run = f"{started}, load {self.load_id}" if self.load_id else started
        content = {"file": name, "run": run, "pid": os.getpid()}
        scratch.write_text(json.dumps(content), encoding="utf-8")
        os.replace(scratch, self.path)
        try:
            yield
        finally:
            self.path.unlink(missing_ok=True)


def crash_reason(run: str) -> str:
    """The quarantine reason of a file a reader crashed on."""
    where = f"in the run of {run} " if run else ""
    return (
        f"the reader crashed on this file {where}(the process died while parsing it); "
        "quarantined rather than read again: if the crash had another cause, move the file "
        "back into the landing folder"
    )
