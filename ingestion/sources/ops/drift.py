"""Schema drift of the operations database: a changed column never stops the source.

dlt creates each raw column once, from what the source had then, and never alters it. When
the order system later changes a table, the new rows would no longer fit: Postgres refuses a
value of a new type, a NULL where the raw column is NOT NULL, and dlt cannot add a NOT NULL
column to a table that has rows. Before each load the source compares its columns with the
raw table's and lands every change as documented drift:

- a type the raw column cannot hold (``integer`` to ``numeric``, ``numeric`` to ``text``):
  the column is widened in place, without loss, to the source's type when every old value
  converts, else to ``text``; a narrowed type (``integer`` to ``smallint``) needs nothing;
- a dropped NOT NULL, or a dropped column: the raw column becomes nullable and is kept, with
  its old values; the new rows hold NULL there;
- a new column (a renamed one is a dropped column plus a new one): added to the raw table as
  nullable (dlt's own ``alter table`` then has nothing left to do) and filled in for the rows
  raw already holds from the source's values, so raw equals the source without reloading the
  table; rows the source no longer has keep NULL there.

dlt's staging copy of the table changes the same way. Views that dbt built on the raw table
are dropped first (Postgres cannot alter a column a view reads) and the next ``dbt build``
recreates them, as after a full refresh. Each change is logged as a warning and kept in
``raw_ops.schema_drift`` (table, column, old type, new type, what changed, when); dlt's own
schema is brought in line by ``dlt_schema``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import cursor as pg_cursor
from psycopg2.extras import execute_values

from ingestion.sources.ops.settings import KEY_BATCH_SIZE, TABLE_PRIMARY_KEYS

log = logging.getLogger(__name__)

DRIFT_TABLE = "schema_drift"

NUMERIC_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
INTEGER_TYPES = ("smallint", "integer", "bigint")
WIDER_INTEGER = {"smallint": 0, "integer": 1, "bigint": 2}

WIDENED = "widened"
NULLABLE = "nullable"
DROPPED = "dropped"
ADDED = "added"
"""What a drift did to the raw column (``schema_drift.change``)."""


@dataclass(frozen=True)
class Column:
    """One column of a table: its ``format_type`` and whether it accepts NULL."""

    type: str
    nullable: bool


@dataclass(frozen=True)
class Drift:
    """One raw column changed so that what the source now sends lands."""

    table: str
    column: str
    raw_type: str
    source_type: str
    widened_to: str
    change: str = WIDENED


def widened_type(raw: str, source: str) -> str | None:
    """The type a raw column of type ``raw`` must become to hold values of ``source``
    (Postgres ``format_type`` names), or None when it holds them already."""
    raw_base, source_base = raw.split("(")[0], source.split("(")[0]
    if raw_base in ("text", "character varying", "jsonb", "json") or raw == source:
        return None
    if raw_base in INTEGER_TYPES and source_base in INTEGER_TYPES:
        return source if WIDER_INTEGER[source_base] > WIDER_INTEGER[raw_base] else None
    if raw_base == "numeric" and source_base in INTEGER_TYPES:
        return None
    if raw_base == "numeric" and source_base == "numeric":
        # dlt creates numeric columns of its own precision; only a wider scale or width matters
        return None if raw == "numeric" else source
    if raw_base in INTEGER_TYPES and source_base == "numeric":
        # the source's own precision: it converted the same integers, and raw then reads as
        # the source does ("2.00", not "2")
        return source
    if raw_base in INTEGER_TYPES and source_base in NUMERIC_TYPES:
        return "numeric"
    if raw_base.startswith("timestamp") and source_base.startswith("timestamp"):
        return None
    return "text"


def added_type(source: str) -> str:
    """The raw type of a column new in the source: dlt's shapes (integers as ``bigint``,
    unbounded ``varchar``), so later values of the same kind always fit."""
    base = source.split("(")[0]
    if base in INTEGER_TYPES:
        return "bigint"
    if base in ("character varying", "character", "text"):
        return "character varying"
    if base == "numeric":
        return "numeric"
    return source


def table_columns(cursor: pg_cursor, schema: str, table: str) -> dict[str, Column]:
    """Column name -> type and nullability of one table (empty when it does not exist)."""
    cursor.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod), not a.attnotnull"
        " from pg_attribute a join pg_class c on c.oid = a.attrelid"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped"
        " order by a.attnum",
        (schema, table),
    )
    return {name: Column(kind, nullable) for name, kind, nullable in cursor.fetchall()}


def source_columns(engine: sa.Engine, schema: str, table: str) -> dict[str, Column]:
    """The same, read from the operations database."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, pg_connection)  # the ops engine's driver is psycopg2
        with raw.cursor() as cursor:
            return table_columns(cursor, schema, table)


def drop_dependent_views(cursor: pg_cursor, schema: str, table: str) -> list[str]:
    """Drop (cascade) every view that reads ``schema.table``; their names."""
    cursor.execute(
        "select distinct vn.nspname, v.relname from pg_depend d"
        " join pg_rewrite r on r.oid = d.objid join pg_class v on v.oid = r.ev_class"
        " join pg_namespace vn on vn.oid = v.relnamespace"
        " join pg_class t on t.oid = d.refobjid join pg_namespace tn on tn.oid = t.relnamespace"
        " where tn.nspname = %s and t.relname = %s and v.oid <> t.oid and v.relkind in ('v', 'm')",
        (schema, table),
    )
    views = cursor.fetchall()
    for view_schema, view in views:
        cursor.execute(
            sql.SQL("drop view if exists {} cascade").format(sql.Identifier(view_schema, view))
        )
    return [f"{s}.{v}" for s, v in views]


def table_drifts(table: str, raw: dict[str, Column], source: dict[str, Column]) -> list[Drift]:
    """What must change in a raw table (columns as in ``raw``) to take the source's rows."""
    drifts: list[Drift] = []
    for name, column in source.items():
        held = raw.get(name)
        if held is None:
            drifts.append(Drift(table, name, "", column.type, added_type(column.type), ADDED))
            continue
        target = widened_type(held.type, column.type)
        if target is not None:
            drifts.append(Drift(table, name, held.type, column.type, target, WIDENED))
        if column.nullable and not held.nullable:
            drifts.append(Drift(table, name, held.type, column.type, held.type, NULLABLE))
    for name, held in raw.items():
        if name not in source and not held.nullable and not name.startswith("_dlt"):
            drifts.append(Drift(table, name, held.type, "", held.type, DROPPED))
    return drifts


def alteration(schema: str, drift: Drift) -> sql.Composed:
    """The ``alter table`` that applies one drift to ``schema.<table>``."""
    table, column = sql.Identifier(schema, drift.table), sql.Identifier(drift.column)
    if drift.change == ADDED:
        return sql.SQL("alter table {} add column if not exists {} {}").format(
            table, column, sql.SQL(drift.widened_to)
        )
    if drift.change == WIDENED:
        return sql.SQL("alter table {} alter column {} type {} using {}::{}").format(
            table, column, sql.SQL(drift.widened_to), column, sql.SQL(drift.widened_to)
        )
    return sql.SQL("alter table {} alter column {} drop not null").format(table, column)


def align_raw_columns(
    engine: sa.Engine,
    warehouse: pg_cursor,
    source_schema: str,
    raw_schemas: Iterable[str],
    tables: Iterable[str],
) -> list[Drift]:
    """Change the raw (and dlt staging) tables so that the source's rows land (see module).

    ``raw_schemas`` lists the raw dataset first, then dlt's staging dataset.
    """
    schemas = list(raw_schemas)
    drifts: list[Drift] = []
    for table in tables:
        raw = table_columns(warehouse, schemas[0], table)
        source = source_columns(engine, source_schema, table)
        if not raw or not source:
            # first load: dlt creates the table; a table gone from the source fails its own
            # load unit with the reason, and raw keeps its constraints meanwhile
            continue
        for drift in table_drifts(table, raw, source):
            for schema in schemas:
                held = table_columns(warehouse, schema, table)
                if not held or (drift.change != ADDED and drift.column not in held):
                    continue
                if drift.change == WIDENED:
                    dropped = drop_dependent_views(warehouse, schema, table)
                    if dropped:
                        log.info(
                            "dropped views on %s.%s (dbt rebuilds them): %s", schema, table, dropped
                        )
                warehouse.execute(alteration(schema, drift))
            if drift.change == ADDED:
                filled = backfill(engine, warehouse, source_schema, schemas[0], drift)
                log.info("ops.%s.%s filled in for %d raw row(s)", table, drift.column, filled)
            record_drift(warehouse, schemas[0], drift)
            log.warning(
                "schema drift: ops.%s.%s %s (raw column was %s, source column is %s): %s",
                table,
                drift.column,
                drift.change,
                drift.raw_type or "absent",
                drift.source_type or "absent",
                drift.widened_to,
            )
            drifts.append(drift)
    return drifts


def backfill(
    engine: sa.Engine, warehouse: pg_cursor, source_schema: str, raw_schema: str, drift: Drift
) -> int:
    """Copy a new column's values from the source into the raw rows of the same key; how many
    source rows were read."""
    key = TABLE_PRIMARY_KEYS[drift.table]
    update = sql.SQL(
        "update {table} as raw set {column} = v.value::{kind} from (values %s) as v(key, value)"
        " where raw.{key} = v.key"
    ).format(
        table=sql.Identifier(raw_schema, drift.table),
        column=sql.Identifier(drift.column),
        kind=sql.SQL(drift.widened_to),
        key=sql.Identifier(key),
    )
    query = sa.text(
        f'select "{key}", "{drift.column}" from "{source_schema}"."{drift.table}"'
        f' where "{drift.column}" is not null'
    )
    read = 0
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=KEY_BATCH_SIZE).execute(query)
        for partition in result.partitions():
            rows = [tuple(row) for row in partition]
            execute_values(warehouse, update.as_string(warehouse), rows, page_size=1000)
            read += len(rows)
    return read


def record_drift(cursor: pg_cursor, raw_schema: str, drift: Drift) -> None:
    """Keep one row per changed raw column in ``<raw schema>.schema_drift``."""
    table = sql.Identifier(raw_schema, DRIFT_TABLE)
    cursor.execute(
        sql.SQL(
            "create table if not exists {} (table_name text not null, column_name text not null,"
            " raw_type text not null, source_type text not null, widened_to text not null,"
            " detected_at timestamptz not null default now())"
        ).format(table)
    )
    # warehouses from before the other kinds of drift have no ``change`` column yet
    cursor.execute(
        sql.SQL("alter table {} add column if not exists change text not null default {}").format(
            table, sql.Literal(WIDENED)
        )
    )
    cursor.execute(
        sql.SQL(
            "insert into {} (table_name, column_name, raw_type, source_type, widened_to, change)"
            " values (%s, %s, %s, %s, %s, %s)"
        ).format(table),
        (
            drift.table,
            drift.column,
            drift.raw_type,
            drift.source_type,
            drift.widened_to,
            drift.change,
        ),
    )
