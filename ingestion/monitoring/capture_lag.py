"""The operations capture in `shopflow status`: how the operations database is read and, when
it is read from its log, how far the warehouse's replication slot trails the server's log.

A slot nobody reads keeps the server's write-ahead log until the disk fills; the local server
caps what a slot may keep (``max_slot_wal_keep_size``) and past it invalidates the slot, after
which the next ingest copies every table again. Status turns red well before that, with what to
do: past ``LAG_BYTES_LIMIT`` of log held or an unread change older than ``UNREAD_AGE_LIMIT``,
and when the slot the warehouse follows is gone or lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ingestion.database.connection import autocommit
from ingestion.database.errors import DatabaseError
from ingestion.settings import ConnectionSettings
from ingestion.sources.ops.settings import DATASET_NAME
from ingestion.sources.ops.slot import CAPTURE_TABLE, SlotLag, read_position, slot_lag

CDC = "cdc"
CURSOR = "cursor"

LAG_BYTES_LIMIT = 5 * 1024**3
"""5 GB of log held by the slot: half of what the local server lets a slot keep (10GB) before
invalidating it, so an ingest still has room to catch up without a whole copy."""
UNREAD_AGE_LIMIT = dt.timedelta(days=2)
"""A change unread for two days means the ingest stopped (it runs at least daily), even when
a quiet source has written little log meanwhile."""

RECORD = f"{DATASET_NAME}.{CAPTURE_TABLE}"
"""Where the warehouse records the slot it follows."""


def human_bytes(count: int) -> str:
    """``1288490188`` as ``1.2 GB`` (units of 1024, as Postgres' ``pg_size_pretty``)."""
    if count < 1024:
        return f"{count} bytes"
    size = float(count)
    for unit in ("kB", "MB", "GB"):
        size /= 1024
        if size < 1024:
            return f"{size:.1f} {unit}"
    return f"{size / 1024:.1f} TB"


def human_age(age: dt.timedelta) -> str:
    """An age in the largest unit that keeps it readable: ``45 s``, ``12 min``, ``5.0 h``,
    ``2.5 days``."""
    seconds = age.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


@dataclass(frozen=True)
class CaptureStatus:
    """How the operations database is read, and the slot's state when it is read from its log."""

    mode: str
    """``cdc`` when the warehouse records a slot it follows (``raw_ops._cdc_position``),
    else ``cursor``."""
    slot: str | None = None
    resyncs: int = 0
    """Initial copies made again since the first one (a slot lost, dropped or refreshed)."""
    lag: SlotLag | None = None
    """None in cursor mode, or when the slot is gone from the server."""
    unreachable: str | None = None
    """Why the operations database's server could not be asked (then nothing is known of
    the slot)."""

    def problem(self) -> str | None:
        """Why the capture is red, one sentence with what to do; None when it is not."""
        if self.mode != CDC:
            return None
        if self.unreachable is not None:
            return (
                f"the operations database cannot be reached to measure the replication slot "
                f"{self.slot} ({self.unreachable}): start or reach it, then run `shopflow "
                "status` again"
            )
        resync = (
            "it resyncs by itself on the next `shopflow ingest ops` (a new slot and a copy of "
            "every table)"
        )
        if self.lag is None:
            return (
                f"the replication slot {self.slot} the warehouse follows is gone from the "
                f"server: {resync}"
            )
        health = self.lag.health
        if not health.usable:
            why = health.invalidation_reason or f"wal_status {health.wal_status}"
            return (
                f"the replication slot {self.slot} was invalidated by the server ({why}): {resync}"
            )
        behind = []
        if self.lag.lag_bytes is not None and self.lag.lag_bytes > LAG_BYTES_LIMIT:
            behind.append(
                f"holds {human_bytes(self.lag.lag_bytes)} of the server's log "
                f"(limit {human_bytes(LAG_BYTES_LIMIT)})"
            )
        age = self.lag.oldest_unread_age
        if age is not None and age > UNREAD_AGE_LIMIT:
            behind.append(
                f"has a change unread for {human_age(age)} (limit {human_age(UNREAD_AGE_LIMIT)})"
            )
        if not behind:
            return None
        return (
            f"the replication slot {self.slot} {' and '.join(behind)}: run `shopflow ingest ops`"
            f" to read it; if this warehouse is gone, drop the slot: "
            f"select pg_drop_replication_slot('{self.slot}')"
        )

    def as_dict(self) -> dict[str, Any]:
        """The capture for machines (``shopflow status --json``)."""
        lag = self.lag
        age = lag.oldest_unread_age if lag else None
        return {
            "mode": self.mode,
            "slot": self.slot,
            "resyncs": self.resyncs,
            "slot_exists": lag is not None,
            "wal_status": lag.health.wal_status if lag else None,
            "lag_bytes": lag.lag_bytes if lag else None,
            "oldest_unread_at": lag.oldest_unread_at if lag else None,
            "oldest_unread_age_seconds": None if age is None else age.total_seconds(),
        }


def read_capture(settings: ConnectionSettings) -> CaptureStatus:
    """The warehouse's record of its slot (none: the cursor reader) and, for a slot, its lag
    as the operations database's server sees it now."""
    with autocommit(settings, settings.database) as cursor:
        position = read_position(cursor, DATASET_NAME)
    if position is None:
        return CaptureStatus(CURSOR)
    try:
        with autocommit(settings, settings.ops_database) as cursor:
            lag = slot_lag(cursor, position.slot)
    except DatabaseError as exc:  # the rest of the status still answers
        return CaptureStatus(CDC, position.slot, position.resyncs, unreachable=str(exc))
    return CaptureStatus(CDC, position.slot, position.resyncs, lag)
