"""The replication slot the warehouse reads the operations database's log through, and the
warehouse's record of how far it has applied that log.

One slot per warehouse, decoding with the built-in ``pgoutput`` plugin the tables of one
publication (``PUBLICATION``). Each slot has a generation in its name (``replication``): a
new initial copy always starts a new slot, and the old one is dropped only once the copy has
loaded, so a copy that fails loses nothing.

The record (``CAPTURE_TABLE`` in the raw dataset, one row) says which slot the raw tables
follow and the log position they hold: written after a load committed, read before the next
one. The slot is advanced only after the record, so a crash in between makes the next run read
those changes again and skip them by position.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras
from psycopg2 import sql
from psycopg2.extras import Json

from ingestion.database.replication import (
    LOGICAL,
    drop_slots,
    generation_of,
    slot_name,
    wal_level,
    warehouse_slots,
)
from ingestion.sources.ops.pgoutput import Begin, decode, int_to_lsn, lsn_to_int

log = logging.getLogger(__name__)

PUBLICATION = "shopflow_ops"
CAPTURE_TABLE = "_cdc_position"
PLUGIN = "pgoutput"


class CaptureUnavailableError(RuntimeError):
    """The server cannot give change data capture (what is missing is in the message)."""


@dataclass(frozen=True)
class Position:
    """The warehouse's record: the slot followed and the log position applied."""

    slot: str
    generation: int
    applied_lsn: int
    copied_at: dt.datetime
    resyncs: int
    relations: dict[str, int] = field(default_factory=dict)
    """Table -> its object id at the copy: the log names a table by that id, so a renamed
    table keeps its changes, and a table dropped and created again (a new id) is copied again."""
    column_types: dict[str, dict[str, str]] = field(default_factory=dict)
    """Table -> column -> type when last read: a type changed since (``alter column ... type
    ... using``) rewrote the values without a row change in the log, so the table is copied."""


@dataclass(frozen=True)
class SlotHealth:
    """A slot as the server sees it."""

    name: str
    wal_status: str | None
    """``reserved``/``extended``/``unreserved``; ``lost`` once the server dropped its log."""
    invalidation_reason: str | None
    confirmed_lsn: int | None

    @property
    def usable(self) -> bool:
        return self.wal_status != "lost" and self.invalidation_reason is None


def missing_capability(cursor: psycopg2.extensions.cursor) -> str | None:
    """What the server or role lacks for change data capture, as one sentence; None if
    nothing."""
    level = wal_level(cursor)
    if level != LOGICAL:
        return (
            f"the server runs with wal_level={level}, and reading its log needs "
            "wal_level=logical (set it and restart the server; on Amazon RDS set "
            "rds.logical_replication=1 in the parameter group)"
        )
    cursor.execute(
        "select rolsuper or rolreplication"
        " or exists (select 1 from pg_roles r where r.rolname = 'rds_replication'"
        "   and pg_has_role(current_user, r.oid, 'member'))"
        " from pg_roles where rolname = current_user"
    )
    row = cursor.fetchone()
    if not row or not row[0]:
        return (
            "the role the pipeline connects as may not use replication slots: "
            "alter role <it> replication (on Amazon RDS: grant rds_replication to <it>)"
        )
    cursor.execute(
        "select current_setting('max_replication_slots')::int - count(*) from pg_replication_slots"
    )
    free = cursor.fetchone()
    if free is None or free[0] <= 0:
        return "every replication slot of the server is taken: raise max_replication_slots"
    return None


def table_ids(cursor: psycopg2.extensions.cursor, schema: str, tables: list[str]) -> dict[str, int]:
    """The object id of each of ``tables`` that exists in ``schema`` (a missing one is left out)."""
    cursor.execute(
        "select c.relname, c.oid::bigint from pg_class c join pg_namespace n"
        " on n.oid = c.relnamespace where n.nspname = %s and c.relname = any(%s)"
        " and c.relkind in ('r', 'p')",
        (schema, tables),
    )
    return {name: int(oid) for name, oid in cursor.fetchall()}


def column_types(
    cursor: psycopg2.extensions.cursor, tables: dict[str, int]
) -> dict[str, dict[str, str]]:
    """Table -> column -> ``format_type`` of each table (by object id) as it is now."""
    cursor.execute(
        "select attrelid::bigint, attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = any(%s::oid[]) and attnum > 0 and not attisdropped",
        (list(tables.values()),),
    )
    by_id = {oid: table for table, oid in tables.items()}
    types: dict[str, dict[str, str]] = {table: {} for table in tables}
    for oid, column, kind in cursor.fetchall():
        types[by_id[int(oid)]][column] = kind
    return types


def ensure_publication(cursor: psycopg2.extensions.cursor, schema: str, tables: list[str]) -> None:
    """The publication of ``tables`` (all four kinds of change), created or completed; call
    it with the tables that exist."""
    cursor.execute(
        "select tablename from pg_publication_tables where pubname = %s and schemaname = %s",
        (PUBLICATION, schema),
    )
    published = {row[0] for row in cursor.fetchall()}
    cursor.execute("select 1 from pg_publication where pubname = %s", (PUBLICATION,))
    exists = cursor.fetchone() is not None
    missing = [t for t in tables if t not in published]
    publish_generated(cursor, exists)
    if exists and not missing:
        return
    names = sql.SQL(", ").join(sql.Identifier(schema, t) for t in (missing if exists else tables))
    if exists:
        cursor.execute(
            sql.SQL("alter publication {} add table {}").format(sql.Identifier(PUBLICATION), names)
        )
    else:
        cursor.execute(
            sql.SQL("create publication {} for table {}").format(sql.Identifier(PUBLICATION), names)
        )
        publish_generated(cursor, exists=True)
    log.info("publication %s covers %s", PUBLICATION, ", ".join(f"{schema}.{t}" for t in tables))


GENERATED_COLUMNS_FROM = 180000
"""``server_version_num`` from which a publication can send stored generated columns."""


def publish_generated(cursor: psycopg2.extensions.cursor, exists: bool) -> None:
    """Have the publication send stored generated columns (PostgreSQL 18 on): ``pgoutput``
    leaves them out by default, and every row the log writes would land with NULL there. On an
    older server they stay out (docs/ingestion.md says so); the initial copy reads them."""
    cursor.execute("select current_setting('server_version_num')::int")
    row = cursor.fetchone()
    if row is None or row[0] < GENERATED_COLUMNS_FROM:
        return
    if exists:
        cursor.execute("select pubgencols from pg_publication where pubname = %s", (PUBLICATION,))
        found = cursor.fetchone()
        if found is not None and found[0] != "s":
            cursor.execute(
                sql.SQL("alter publication {} set (publish_generated_columns = stored)").format(
                    sql.Identifier(PUBLICATION)
                )
            )


def slot_health(cursor: psycopg2.extensions.cursor, name: str) -> SlotHealth | None:
    """The slot ``name`` as the server sees it; None when it does not exist."""
    cursor.execute(
        "select slot_name, wal_status, invalidation_reason, confirmed_flush_lsn::text"
        " from pg_replication_slots where slot_name = %s",
        (name,),
    )
    row = cursor.fetchone()
    if row is None:
        return None
    return SlotHealth(row[0], row[1], row[2], lsn_to_int(row[3]) if row[3] else None)


@dataclass
class NewSlot:
    """A slot just created, holding the snapshot its initial copy is read in."""

    name: str
    generation: int
    consistent_lsn: int
    snapshot: str
    connection: psycopg2.extensions.connection
    """The replication connection: the snapshot lives as long as it stays idle and open."""

    def close(self) -> None:
        self.connection.close()


def create_slot(
    ops_url: str,
    warehouse_database: str,
    ops_cursor: psycopg2.extensions.cursor,
    last_generation: int = 0,
) -> NewSlot:
    """A new slot with its exported snapshot: the generation after both ``last_generation``
    (the warehouse's record) and every slot of this warehouse still on the server, so a new
    slot never takes the name of one dropped before."""
    generations = [
        generation_of(name, warehouse_database) or 0
        for name in warehouse_slots(ops_cursor, warehouse_database)
    ]
    generation = max([*generations, last_generation]) + 1
    name = slot_name(warehouse_database, generation)
    connection = psycopg2.connect(
        ops_url, connection_factory=psycopg2.extras.LogicalReplicationConnection
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("CREATE_REPLICATION_SLOT {} LOGICAL {} (SNAPSHOT 'export')").format(
                    sql.Identifier(name), sql.Identifier(PLUGIN)
                )
            )
            row = cursor.fetchone()
    except BaseException:
        connection.close()
        raise
    if row is None:
        connection.close()
        raise CaptureUnavailableError(f"the server created slot {name} but returned no snapshot")
    return NewSlot(name, generation, lsn_to_int(row[1]), row[2], connection)


def read_position(cursor: psycopg2.extensions.cursor, dataset: str) -> Position | None:
    """The warehouse's record (None before the first initial copy loaded)."""
    cursor.execute("select to_regclass(%s)", (f"{dataset}.{CAPTURE_TABLE}",))
    row = cursor.fetchone()
    if row is None or row[0] is None:
        return None
    cursor.execute(
        sql.SQL(
            "select slot_name, generation, applied_lsn, copied_at, resyncs,"
            " coalesce(to_jsonb(t) -> 'relations', '{{}}'),"
            " coalesce(to_jsonb(t) -> 'column_types', '{{}}') from {}.{} as t"
        ).format(sql.Identifier(dataset), sql.Identifier(CAPTURE_TABLE))
    )
    found = cursor.fetchone()
    if found is None:
        return None
    slot, generation, applied_lsn, copied_at, resyncs, relations, types = found
    return Position(slot, generation, applied_lsn, copied_at, resyncs, relations, types)


def write_position(cursor: psycopg2.extensions.cursor, dataset: str, position: Position) -> None:
    """Replace the record, in the caller's transaction."""
    table = sql.Identifier(dataset, CAPTURE_TABLE)
    cursor.execute(
        sql.SQL(
            "create table if not exists {} (slot_name text not null, generation integer not null,"
            " applied_lsn bigint not null, copied_at timestamptz not null,"
            " resyncs integer not null, recorded_at timestamptz not null default now())"
        ).format(table)
    )
    cursor.execute(
        sql.SQL(
            "alter table {} add column if not exists relations jsonb,"
            " add column if not exists column_types jsonb"
        ).format(table)
    )
    cursor.execute(sql.SQL("delete from {}").format(table))
    cursor.execute(
        sql.SQL(
            "insert into {} (slot_name, generation, applied_lsn, copied_at, resyncs, relations,"
            " column_types) values (%s, %s, %s, %s, %s, %s, %s)"
        ).format(table),
        (
            position.slot,
            position.generation,
            position.applied_lsn,
            position.copied_at,
            position.resyncs,
            Json(position.relations),
            Json(position.column_types),
        ),
    )


def advance(cursor: psycopg2.extensions.cursor, name: str, lsn: int) -> None:
    """Let the server recycle the log up to ``lsn`` (already applied and recorded)."""
    cursor.execute("select pg_replication_slot_advance(%s, %s::pg_lsn)", (name, int_to_lsn(lsn)))


def drop_other_generations(
    cursor: psycopg2.extensions.cursor, warehouse_database: str, keep: str
) -> list[str]:
    """Drop this warehouse's slots but ``keep`` (older copies, or copies that failed)."""
    others = [n for n in warehouse_slots(cursor, warehouse_database) if n != keep]
    return drop_slots(cursor, names=others) if others else []


@dataclass(frozen=True)
class SlotLag:
    """How far a slot trails the server's log: the log it keeps the server from recycling,
    and how long its oldest unread change has waited."""

    health: SlotHealth
    lag_bytes: int | None
    """The server's current log position minus the slot's confirmed one (None when the
    server no longer knows the confirmed position)."""
    oldest_unread_at: dt.datetime | None
    """Commit time of the first transaction the slot has not given yet; None when nothing
    is unread, the slot is lost, or it could not be peeked (``peeked``)."""
    peeked: bool
    """False when another session held the slot (an ingest reading it): the age is unknown."""
    measured_at: dt.datetime
    """The server's clock after the peek: ages are taken against the clock that stamped the
    commits, never against this machine's."""

    @property
    def oldest_unread_age(self) -> dt.timedelta | None:
        if self.oldest_unread_at is None:
            return None
        return self.measured_at - self.oldest_unread_at


def slot_lag(cursor: psycopg2.extensions.cursor, name: str) -> SlotLag | None:
    """The lag of the slot ``name``, read through ``cursor`` (autocommit, connected to the
    slot's database: a slot is decoded only there); None when the slot does not exist.

    The age comes from peeking one message without consuming it: the first is the Begin of
    the oldest unread transaction, which carries its commit time. A lost slot has no log left
    to peek.
    """
    health = slot_health(cursor, name)
    if health is None:
        return None
    oldest: dt.datetime | None = None
    peeked = health.usable
    if health.usable:
        try:
            # the server decodes the whole first transaction; only its Begin comes back
            cursor.execute(
                "select data from pg_logical_slot_peek_binary_changes(%s, null, 1,"
                " 'proto_version', '1', 'publication_names', %s) limit 1",
                (name, PUBLICATION),
            )
        except psycopg2.errors.ObjectInUse:
            log.debug("slot %s is being read by another session: its age is unknown", name)
            peeked = False
        else:
            row = cursor.fetchone()
            first = decode(bytes(row[0])) if row else None
            oldest = first.commit_time if isinstance(first, Begin) else None
    cursor.execute("select (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint, clock_timestamp()")
    current, now = cursor.fetchone()  # type: ignore[misc]
    lag = None if health.confirmed_lsn is None else int(current) - health.confirmed_lsn
    return SlotLag(health, lag, oldest, peeked, now)


def retyped(position: Position, types: dict[str, dict[str, str]]) -> dict[str, str]:
    """The tables with a column whose type changed since the last read, and which."""
    changed: dict[str, str] = {}
    for table, columns in types.items():
        for column, kind in columns.items():
            was = position.column_types.get(table, {}).get(column, kind)
            if was != kind and table not in changed:
                changed[table] = (
                    f"the column {column} changed type ({was} to {kind}), which rewrites its"
                    " values without a change in the log"
                )
    return changed


def copy_reason(
    ops: psycopg2.extensions.connection,
    position: Position | None,
    present: dict[str, int] | None = None,
) -> str:
    """Why this run must copy every table (empty when the recorded slot can be read on)."""
    if position is None:
        return "no initial copy recorded in the warehouse yet"
    for table, oid in (present or {}).items():
        if position.relations and table not in position.relations:  # read since a new release
            return f"the table {table} is read now but was not in the last copy"
        if position.relations.get(table, oid) != oid:
            return f"the table {table} was dropped and created again since the last copy"
    with ops.cursor() as cursor:
        health = slot_health(cursor, position.slot)
    if health is None:
        return f"the slot {position.slot} is gone (dropped on the server)"
    if not health.usable:
        why = health.invalidation_reason or f"wal_status {health.wal_status}"
        return f"the slot {position.slot} was invalidated by the server ({why})"
    return ""
