"""The simulator's own state in ``shopflow_ops.sim``: the business clock, id sequences, tick log.

Also creates (``apply_schema``) and removes (``drop_world``) the simulated systems' schemas.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg2.extensions

from ingestion.database.connection import connect, one_row
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

Cursor = psycopg2.extensions.cursor

SCHEMA_FILE = Path(__file__).with_name("schema.sql")
WORLD_SCHEMAS = ("ops", "storefront", "sim")
DATA_TABLES = (
    "storefront.products",
    "storefront.marketplace_sales",
    "ops.customers",
    "ops.orders",
)


class WorldNotBuiltError(RuntimeError):
    """The operations DB has no simulated world yet (no ``sim.clock`` row)."""


class WorldExistsError(RuntimeError):
    """The operations DB already holds data, and it was not asked to reset it."""


@dataclass(frozen=True)
class Clock:
    """The business clock and the parameters the world was built with."""

    business_time: int
    """Epoch seconds."""
    seed: int
    scale: float
    ticks: int


def apply_schema(cur: Cursor) -> None:
    """Create the ``sim``, ``storefront`` and ``ops`` schemas and tables (idempotent)."""
    cur.execute(SCHEMA_FILE.read_text())


def drop_world(cur: Cursor) -> None:
    """Drop the simulated systems' schemas with everything in them."""
    for schema in WORLD_SCHEMAS:
        cur.execute(f"drop schema if exists {schema} cascade")
    log.info("dropped schemas %s", ", ".join(WORLD_SCHEMAS))


def analyze_world(cur: Cursor) -> None:
    """Refresh the planner's statistics of the world's own tables (a bare ``analyze`` also
    visits the system catalogues, which only their owner may analyse)."""
    cur.execute(
        "select format('%%I.%%I', schemaname, tablename) from pg_tables where schemaname = any(%s)",
        (list(WORLD_SCHEMAS),),
    )
    for (table,) in cur.fetchall():
        cur.execute(f"analyze {table}")


def use_utc(cur: Cursor) -> None:
    """Make the session speak UTC, so timestamps without an offset are read as UTC."""
    cur.execute("set time zone 'UTC'")


@contextmanager
def ops_transaction(settings: ConnectionSettings) -> Iterator[Cursor]:
    """A cursor on the operations DB of ``settings``, speaking UTC, in one transaction: committed
    when the block ends, rolled back if it raises; the connection is closed either way."""
    conn = connect(settings, settings.ops_database)
    try:
        with conn, conn.cursor() as cur:
            use_utc(cur)
            yield cur
    finally:
        conn.close()


def existing_data_tables(cur: Cursor) -> list[str]:
    """The world's main tables that exist and hold at least one row."""
    filled = []
    for table in (*DATA_TABLES, "sim.clock"):
        cur.execute("select to_regclass(%s) is not null", (table,))
        if one_row(cur)[0]:
            cur.execute(f"select exists (select 1 from {table})")
            if one_row(cur)[0]:
                filled.append(table)
    return filled


def read_clock(cur: Cursor) -> Clock | None:
    """The clock, or None when no world has been built."""
    cur.execute("select to_regclass('sim.clock') is not null")
    if not one_row(cur)[0]:
        return None
    cur.execute(
        "select extract(epoch from business_time)::bigint, seed, scale, ticks from sim.clock"
    )
    row = cur.fetchone()
    if row is None:
        return None
    return Clock(business_time=int(row[0]), seed=int(row[1]), scale=float(row[2]), ticks=row[3])


def require_clock(cur: Cursor) -> Clock:
    """The clock; raises :class:`WorldNotBuiltError` when there is none."""
    clock = read_clock(cur)
    if clock is None:
        raise WorldNotBuiltError(
            "The operations DB has no simulated world yet: run `shopflow simulate ops` first."
        )
    return clock


def write_clock(cur: Cursor, clock: Clock) -> None:
    """Insert or replace the single clock row."""
    cur.execute(
        """
        insert into sim.clock (singleton, business_time, seed, scale, ticks)
        values (true, to_timestamp(%s), %s, %s, %s)
        on conflict (singleton) do update set business_time = excluded.business_time,
            seed = excluded.seed, scale = excluded.scale, ticks = excluded.ticks
        """,
        (clock.business_time, clock.seed, clock.scale, clock.ticks),
    )


def log_window(cur: Cursor, tick: int, start: int, end: int) -> None:
    """Record the business-time window a build (tick 0) or tick wrote."""
    cur.execute(
        "insert into sim.tick_log (tick, window_start, window_end) "
        "values (%s, to_timestamp(%s), to_timestamp(%s))",
        (tick, start, end),
    )


def latest_window(cur: Cursor) -> tuple[int, int, int]:
    """``(tick, window_start, window_end)`` of the latest build or tick."""
    cur.execute(
        "select tick, extract(epoch from window_start)::bigint, "
        "extract(epoch from window_end)::bigint from sim.tick_log order by tick desc limit 1"
    )
    row = cur.fetchone()
    if row is None:
        raise WorldNotBuiltError("sim.tick_log is empty: build the world first.")
    return int(row[0]), int(row[1]), int(row[2])


def take_ids(cur: Cursor, entity: str, count: int) -> np.ndarray:
    """Reserve ``count`` new ids for ``entity`` and return them (consecutive, ascending)."""
    cur.execute(
        """
        insert into sim.id_sequences (entity, last_id) values (%s, %s)
        on conflict (entity) do update set last_id = sim.id_sequences.last_id + excluded.last_id
        returning last_id
        """,
        (entity, count),
    )
    last = int(one_row(cur)[0])
    return np.arange(last - count + 1, last + 1, dtype=np.int64)


def read_world_clock(settings: ConnectionSettings) -> Clock | None:
    """The clock of the operations DB in ``settings``, or None when no world is built."""
    conn = connect(settings, settings.ops_database)
    try:
        with conn, conn.cursor() as cur:
            return read_clock(cur)
    finally:
        conn.close()
