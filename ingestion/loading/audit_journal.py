"""Audit rows the warehouse could not take, kept on local disk until it can.

A run whose database goes away mid-stage must still leave its failure in
``audit.pipeline_runs``: when writing a row fails because the server is unreachable, the row is
appended as one JSON line to this warehouse's journal (``<state folder>/audit-journal/
<database>.jsonl``), flushed and fsynced. Every later write, and every command that reads the
runs (`shopflow status`, `retry`, a run taking the lock), replays the journal first, oldest line
first, and empties it. Replaying is idempotent: a row's key is its run id, stage and source,
and the insert is an upsert on that key, so a replay cut short is simply done again.

The file is locked (``flock``) while it is appended to or replayed, so two commands never
lose each other's lines.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from ingestion.settings import ConnectionSettings, state_dir

log = logging.getLogger(__name__)

JOURNAL_FOLDER = "audit-journal"
TIMESTAMP_FIELDS = ("started_at", "finished_at")


def journal_path(settings: ConnectionSettings) -> Path:
    """This warehouse database's journal, one per database like dlt's working folders (the
    name quoted, so that any database name makes one plain file name). Keyed by the name,
    not the address: a run that reached the server through another address (a proxy, a
    failover name) is still replayed by the next command."""
    return state_dir() / JOURNAL_FOLDER / f"{quote(settings.database, safe='')}.jsonl"


@contextmanager
def _locked(path: Path) -> Iterator[IO[str]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield handle
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def append(settings: ConnectionSettings, row: Any) -> Path:
    """Keep one audit row (a dataclass) for later, durably (flushed and fsynced)."""
    document = dataclasses.asdict(row)
    for name in TIMESTAMP_FIELDS:
        value = document.get(name)
        document[name] = value.isoformat() if isinstance(value, dt.datetime) else value
    path = journal_path(settings)
    with _locked(path) as handle:
        handle.write(json.dumps(document, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def pending(settings: ConnectionSettings) -> bool:
    """Whether the journal holds rows not written yet (a cheap look at the file's size)."""
    try:
        return journal_path(settings).stat().st_size > 0
    except OSError:
        return False


def _decoded(line: str) -> dict[str, Any] | None:
    """One journal line; None for a blank one or one torn by a crash while it was written."""
    if not line.strip():
        return None
    try:
        row = json.loads(line)
    except ValueError:
        log.warning("audit journal: an unreadable line left out (torn by a crash?): %r", line)
        return None
    return row if isinstance(row, dict) else None


def replay(settings: ConnectionSettings, write: Callable[[dict[str, Any]], None]) -> int:
    """Hand every journaled row, oldest first, to ``write``, then empty the journal; returns
    how many were written. ``write`` raising leaves the journal whole for the next replay
    (the rows written before are written again then, harmlessly)."""
    if not pending(settings):
        return 0
    path = journal_path(settings)
    with _locked(path) as handle:
        handle.seek(0)
        rows = [row for line in handle.read().splitlines() if (row := _decoded(line))]
        for row in rows:
            for name in TIMESTAMP_FIELDS:
                if row.get(name):
                    row[name] = dt.datetime.fromisoformat(row[name])
            write(row)
        handle.truncate(0)
        handle.flush()
        os.fsync(handle.fileno())
    log.info("audit journal: %d row(s) written to %s", len(rows), settings.database)
    return len(rows)
