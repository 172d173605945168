"""Schema drift of the operations database: a column whose type changes keeps loading.

dlt creates each raw column once, from the type the source had then, and never alters it.
When the order system later changes a column's type (``integer`` to ``numeric``, ``numeric``
to ``text``), the new values no longer fit the raw column and Postgres would refuse them.

Before each load the source compares its columns with the raw table's. A raw column that
cannot hold the source's new type is widened, in place and without loss: to the source's
type when every old value converts (an integer into ``numeric``), otherwise to ``text``. dlt's
staging copy of the table is widened too. Views that dbt built on the raw table are dropped
first (Postgres cannot alter a column a view reads) and the next ``dbt build`` recreates them,
as after a full refresh. Each change is logged as a warning and kept in
``raw_ops.schema_drift`` (table, column, old type, new type, when).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from psycopg2 import sql
from psycopg2.extensions import connection as pg_connection
from psycopg2.extensions import cursor as pg_cursor

log = logging.getLogger(__name__)

DRIFT_TABLE = "schema_drift"

NUMERIC_TYPES = ("smallint", "integer", "bigint", "numeric", "real", "double precision")
INTEGER_TYPES = ("smallint", "integer", "bigint")
WIDER_INTEGER = {"smallint": 0, "integer": 1, "bigint": 2}


@dataclass(frozen=True)
class Drift:
    """One raw column widened to hold what the source now sends."""

    table: str
    column: str
    raw_type: str
    source_type: str
    widened_to: str


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
    if raw_base in INTEGER_TYPES and source_base in NUMERIC_TYPES:
        return "numeric"
    if raw_base.startswith("timestamp") and source_base.startswith("timestamp"):
        return None
    return "text"


def column_types(cursor: pg_cursor, schema: str, table: str) -> dict[str, str]:
    """Column name -> ``format_type`` of one table (empty when the table does not exist)."""
    cursor.execute(
        "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a"
        " join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = %s and c.relname = %s and a.attnum > 0 and not a.attisdropped",
        (schema, table),
    )
    return dict(cursor.fetchall())


def source_column_types(engine: sa.Engine, schema: str, table: str) -> dict[str, str]:
    """The same, read from the operations database."""
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, pg_connection)  # the ops engine's driver is psycopg2
        with raw.cursor() as cursor:
            return column_types(cursor, schema, table)


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


def align_raw_types(
    engine: sa.Engine,
    warehouse: pg_cursor,
    source_schema: str,
    raw_schemas: Iterable[str],
    tables: Iterable[str],
) -> list[Drift]:
    """Widen the raw (and dlt staging) columns that can no longer hold the source's values.

    ``raw_schemas`` lists the raw dataset first, then dlt's staging dataset.
    """
    schemas = list(raw_schemas)
    drifts: list[Drift] = []
    for table in tables:
        raw = column_types(warehouse, schemas[0], table)
        if not raw:
            continue  # first load: dlt creates the table from the source's types
        for column, source_type in source_column_types(engine, source_schema, table).items():
            raw_type = raw.get(column)
            if raw_type is None:
                continue  # a new column: dlt adds it
            target = widened_type(raw_type, source_type)
            if target is None:
                continue
            for schema in schemas:
                if column not in column_types(warehouse, schema, table):
                    continue
                dropped = drop_dependent_views(warehouse, schema, table)
                if dropped:
                    log.info(
                        "dropped views on %s.%s (dbt rebuilds them): %s", schema, table, dropped
                    )
                warehouse.execute(
                    sql.SQL("alter table {} alter column {} type {} using {}::{}").format(
                        sql.Identifier(schema, table),
                        sql.Identifier(column),
                        sql.SQL(target),
                        sql.Identifier(column),
                        sql.SQL(target),
                    )
                )
            drift = Drift(table, column, raw_type, source_type, target)
            record_drift(warehouse, schemas[0], drift)
            log.warning(
                "schema drift: ops.%s.%s is now %s (raw column was %s): widened to %s",
                table,
                column,
                source_type,
                raw_type,
                target,
            )
            drifts.append(drift)
    return drifts


def record_drift(cursor: pg_cursor, raw_schema: str, drift: Drift) -> None:
    """Keep one row per widened column in ``<raw schema>.schema_drift``."""
    table = sql.Identifier(raw_schema, DRIFT_TABLE)
    cursor.execute(
        sql.SQL(
            "create table if not exists {} (table_name text not null, column_name text not null,"
            " raw_type text not null, source_type text not null, widened_to text not null,"
            " detected_at timestamptz not null default now())"
        ).format(table)
    )
    cursor.execute(
        sql.SQL(
            "insert into {} (table_name, column_name, raw_type, source_type, widened_to)"
            " values (%s, %s, %s, %s, %s)"
        ).format(table),
        (drift.table, drift.column, drift.raw_type, drift.source_type, drift.widened_to),
    )
