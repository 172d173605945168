"""One landing file: read it, or quarantine it when it cannot be parsed at all."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from dlt.common.pendulum import pendulum
from dlt.extract.items import DataItemWithMeta
from dlt.sources.filesystem import FileItemDict

from ingestion.sources.validation import (
    METRIC_FILES_QUARANTINED,
    METRIC_FILES_READ,
    QUARANTINED_FILES_COLUMNS,
    QUARANTINED_FILES_TABLE,
    count_metric,
    current_load_id,
    routed_row,
)

log = logging.getLogger(__name__)

LoadItem = pa.Table | list[dict[str, Any]] | DataItemWithMeta
FileReader = Callable[[Path, str, str], Iterator[LoadItem]]
"""Reads one file (path, relative name, resource name) into loadable items."""


class UnreadableFileError(Exception):
    """A file that cannot be parsed at all; the message is the reason it is quarantined."""


def quarantine_file(path: Path, relative_name: str, quarantine_dir: Path, reason: str) -> Path:
    """Move a file into the quarantine folder (keeping its sub-folder) beside a ``.reason`` file.

    An earlier file of the same name already there is kept: the new one gets a time suffix.
    """
    target = quarantine_dir / relative_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = target.with_name(f"{target.stem}.{stamp}{target.suffix}")
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
    item: FileItemDict,
    resource: str,
    suffixes: frozenset[str],
    quarantine_dir: Path,
    reader: FileReader,
) -> Iterator[LoadItem]:
    """Read one listed file with ``reader``; quarantine it if it cannot be parsed at all."""
    path = Path(item.local_file_path)
    name = item["relative_path"]
    if path.name.startswith("."):
        log.debug("skipping hidden (partially written) file %s", name)
        return
    count_metric(METRIC_FILES_READ)
    try:
        if path.suffix.lower() not in suffixes:
            raise UnreadableFileError(
                f"unsupported file type {path.suffix!r} (expected {', '.join(sorted(suffixes))})"
            )
        yield from reader(path, name, resource)
    except UnreadableFileError as exc:
        quarantine_file(path, name, quarantine_dir, str(exc))
        count_metric(METRIC_FILES_QUARANTINED)
        yield routed_row(
            quarantined_row(name, str(exc)), QUARANTINED_FILES_TABLE, QUARANTINED_FILES_COLUMNS
        )
