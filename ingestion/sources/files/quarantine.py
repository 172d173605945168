"""One landing file: read it, or quarantine it when it cannot be parsed at all."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeAlias

import pyarrow as pa
from dlt.common.pendulum import pendulum
from dlt.extract.items import DataItemWithMeta

from ingestion.sources.files.storable import storable_name, storable_text
from ingestion.sources.files.tracking import LandingFile
from ingestion.sources.validation import (
    MAX_REASON_CHARS,
    METRIC_FILES_QUARANTINED,
    METRIC_FILES_READ,
    QUARANTINED_FILES_COLUMNS,
    QUARANTINED_FILES_TABLE,
    bounded_text,
    count_metric,
    current_load_id,
    routed_row,
)

log = logging.getLogger(__name__)

LoadItem: TypeAlias = pa.Table | list[dict[str, Any]] | DataItemWithMeta
FileReader = Callable[[Path, str, str], Iterator[LoadItem]]
"""Reads one file (path, relative name, resource name) into loadable items."""


class UnreadableFileError(Exception):
    """A file that cannot be parsed at all; the message is the reason it is quarantined."""


def quarantine_file(
    path: Path, relative_name: str, quarantine_dir: Path, reason: str, unopened: bool = False
) -> Path:
    """Move a file into the quarantine folder (keeping its sub-folder) beside a ``.reason`` file.

    An earlier file of the same name already there is kept: the new one gets a time suffix.
    ``unopened``: the entry is moved by renaming it only (a link moves as the link, a pipe
    is never opened), never copied, which would read it.
    """
    target = quarantine_dir / relative_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.lexists(target):
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
    if unopened:
        os.rename(path, target)
    else:
        shutil.move(str(path), target)
    target.with_name(target.name + ".reason").write_text(reason + "\n", encoding="utf-8")
    log.warning("quarantined %s: %s", relative_name, reason)
    return target


def quarantined_row(relative_name: str, reason: str) -> dict[str, Any]:
    """The ``quarantined_files`` row for one file."""
    return {
        "file_name": relative_name,
        "reason": reason,
        "load_id": current_load_id(),
        "quarantined_at": pendulum.now("UTC"),
    }


def read_landing_file(
    file: LandingFile,
    resource: str,
    suffixes: frozenset[str],
    quarantine_dir: Path,
    reader: FileReader,
) -> Iterator[LoadItem]:
    """Read one listed file with ``reader``; quarantine it if it cannot be parsed at all.

    A value the readers did not foresee that Arrow or Python cannot convert quarantines the
    file too, as does any other failure of the reader on it (the traceback goes to the log):
    the source keeps loading the other files. A refused entry (``LandingFile.refused``) is
    quarantined unopened. A file deleted while it is read is left to the next run (its rows
    read so far load; events are insert-only, so reading it again adds nothing twice);
    a failure of the machine (a full disk) stops the run as before.
    """
    path, name = file.path, file.name
    count_metric(METRIC_FILES_READ)
    try:
        if file.refused is not None:
            raise UnreadableFileError(file.refused)
        if not storable_name(name):
            raise UnreadableFileError("its name is not UTF-8 text: rename it")
        if path.suffix.lower() not in suffixes:
            raise UnreadableFileError(
                f"unsupported file type {path.suffix!r} (expected {', '.join(sorted(suffixes))})"
            )
        try:
            yield from reader(path, name, resource)
        except (pa.ArrowException, OverflowError, UnicodeError) as exc:
            log.warning("%s: unexpected value", storable_text(name), exc_info=True)
            raise UnreadableFileError(
                f"a value could not be read: {type(exc).__name__}: {exc}"
            ) from exc
        except FileNotFoundError:
            if path.exists():
                raise
            log.warning("%s: deleted while it was read; left to the next run", name)
            return
        except OSError as exc:
            if not isinstance(exc, PermissionError):
                raise  # the machine's failure (a full disk), not the file's
            raise UnreadableFileError(f"it cannot be opened: {exc.strerror}") from exc
        except (UnreadableFileError, GeneratorExit):
            raise
        except Exception as exc:
            log.warning("%s: the reader failed", storable_text(name), exc_info=True)
            raise UnreadableFileError(
                f"the reader failed on it: {type(exc).__name__}: {exc}"
            ) from exc
    except UnreadableFileError as exc:
        reason = bounded_text(storable_text(str(exc)), MAX_REASON_CHARS)
        quarantine_file(path, name, quarantine_dir, reason, unopened=file.refused is not None)
        count_metric(METRIC_FILES_QUARANTINED)
        yield routed_row(
            quarantined_row(storable_text(name), reason),
            QUARANTINED_FILES_TABLE,
            QUARANTINED_FILES_COLUMNS,
        )
