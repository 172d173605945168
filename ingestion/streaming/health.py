"""How the stream is doing: the consumer's backlog, the windows' progress, the landing rate.

Read by `shopflow stream status` and `shopflow status` (red when the backlog passes
``LAG_LIMIT_MESSAGES``; a warning when the warehouse has streamed windows but the broker is
down).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from dataclasses import asdict, dataclass
from typing import Any

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings
from ingestion.streaming.raw_writer import EVENTS
from ingestion.streaming.topology import (
    Backlog,
    BrokerUnreachableError,
    consumer_backlog,
)
from ingestion.streaming.windows import SCHEMA, STREAM_KEY

LAG_LIMIT_MESSAGES = 100_000
"""Messages not yet landed (pending plus awaiting ack) past which the stream is red: at the
producer's 2,000 events/s, under a minute of work for one consumer (docs/streaming.md)."""
RATE_SECONDS = 60


@dataclass(frozen=True)
class StreamHealth:
    """The stream as the broker and the warehouse see it now."""

    broker_reachable: bool
    backlog: Backlog | None
    has_windows: bool
    """Whether the warehouse has ``realtime`` windows (the stream has ever landed events)."""
    latest_event_at: dt.datetime | None = None
    watermark_at: dt.datetime | None = None
    last_closed_window_at: dt.datetime | None = None
    landed_last_minute: int = 0

    @property
    def lag(self) -> int | None:
        """Messages not yet landed: pending for any consumer plus delivered but unacked."""
        return None if self.backlog is None else self.backlog.pending + self.backlog.unacknowledged

    @property
    def rate(self) -> float:
        """Events landed per second over the last minute."""
        return self.landed_last_minute / RATE_SECONDS

    def problem(self) -> str | None:
        """Why the stream is red, one sentence with what to do; None when it is not. A broker
        that cannot be reached is not red by itself (``warning``): the batch path still
        delivers every event, and a broker stopped on purpose must not fail the nightly run."""
        lag = self.lag or 0
        if lag > LAG_LIMIT_MESSAGES:
            return (
                f"the clickstream consumer is {lag:,} messages behind (limit "
                f"{LAG_LIMIT_MESSAGES:,}): run more `shopflow stream consume` processes"
            )
        return None

    def warning(self) -> str | None:
        """What is worth a look but not red: the broker down while the warehouse has windows."""
        if self.broker_reachable or not self.has_windows:
            return None
        return (
            "the clickstream broker cannot be reached while the warehouse has realtime windows: "
            "start it with `shopflow stream start`"
        )

    def as_dict(self) -> dict[str, Any]:
        """The health for machines (``shopflow status --json``)."""
        values = asdict(self)
        values["lag"] = self.lag
        values["rate_per_second"] = self.rate
        return values


def _warehouse_side(settings: ConnectionSettings) -> dict[str, Any]:
    """The watermark, the last closed window and the events landed in the last minute."""
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("select to_regclass(%s) is not null", (f"{SCHEMA}.watermarks",))
            if not (row := cur.fetchone()) or not row[0]:
                return {"has_windows": False}
            cur.execute(
                f"select latest_event_at, watermark_at from {SCHEMA}.watermarks "
                "where stream_name = %s",
                (STREAM_KEY,),
            )
            latest, watermark = cur.fetchone() or (None, None)
            cur.execute(f"select max(window_start_at) from {SCHEMA}.closed_windows")
            closed = (cur.fetchone() or (None,))[0]
            cur.execute(
                f"select count(*) from {EVENTS} where _arrived_by = 'stream' "
                "and _dlt_load_id >= %s",
                (f"{time.time() - RATE_SECONDS:.6f}",),
            )
            landed = (cur.fetchone() or (0,))[0]
    finally:
        conn.close()
    return {
        "has_windows": True,
        "latest_event_at": latest,
        "watermark_at": watermark,
        "last_closed_window_at": closed,
        "landed_last_minute": int(landed),
    }


def read_health(server_url: str, settings: ConnectionSettings) -> StreamHealth:
    """The stream's health; a warehouse that cannot be reached is the caller's error
    (DatabaseError), a broker that cannot be reached is part of the answer."""
    try:
        backlog: Backlog | None = asyncio.run(consumer_backlog(server_url))
    except (BrokerUnreachableError, OSError):
        backlog = None
    warehouse = _warehouse_side(settings)
    return StreamHealth(broker_reachable=backlog is not None, backlog=backlog, **warehouse)
