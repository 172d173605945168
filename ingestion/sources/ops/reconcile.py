"""Range reconciliation of an operations table with its raw copy: what a cursor missed.

A cursor only sees rows whose stamp is after it. It misses a change stamped long before the
last load (a transaction that committed late, a clock that went back), a row restored with
its old stamp after it was deleted, and a change made without a new stamp. Every
``every_runs`` runs each table is compared with its raw copy by key ranges: per range of
``bucket_size`` keys, the row count and a hash of every row's values on both sides. Only the
ranges that differ are compared row by row (key and row hash), and the source rows missing
from raw or different there are read again and merged. Keys only raw has are deletions,
which the key reconciliation of every run (``helpers``) already handles.

Rows the cursor reads in the same run (stamped from its window start) are left to it, so a
row is never counted twice. Both sides hash the same columns as text, in a session on UTC,
so a value of the same type reads the same in both databases.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from psycopg2 import sql

from ingestion.sources.ops.settings import CURSOR_COLUMN, KEY_BATCH_SIZE

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RangeCheck:
    """What to compare: one source table and its raw copy, by key ranges."""

    schema: str
    table: str
    key: str
    columns: tuple[str, ...]
    bucket_size: int

    def ranges_query(self, schema: str) -> sql.Composed:
        """Per key range of ``schema.table``: the range, its row count and its content hash."""
        return sql.SQL(
            "select {key} / {size} as bucket, count(*),"
            " md5(string_agg({row}, '' order by {key})) from {table} group by 1"
        ).format(
            key=sql.Identifier(self.key),
            size=sql.Literal(self.bucket_size),
            row=self.row_hash(),
            table=sql.Identifier(schema, self.table),
        )

    def rows_query(self, schema: str) -> sql.Composed:
        """Key and row hash of every row of ``schema.table`` in the ranges given as ``%s``."""
        return sql.SQL("select {key}, {row} from {table} where {key} / {size} = any(%s)").format(
            key=sql.Identifier(self.key),
            size=sql.Literal(self.bucket_size),
            row=self.row_hash(),
            table=sql.Identifier(schema, self.table),
        )

    def row_hash(self) -> sql.Composed:
        """``md5`` of the row's compared columns, each as text."""
        return sql.SQL("md5(concat_ws('|', {}))").format(
            sql.SQL(", ").join(
                sql.SQL("coalesce({}::text, '\\N')").format(sql.Identifier(c)) for c in self.columns
            )
        )


def table_columns(cursor: Any, schema: str, table: str) -> list[str]:
    """The columns of ``schema.table`` in their order (empty when the table does not exist)."""
    cursor.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (schema, table),
    )
    return [row[0] for row in cursor.fetchall()]


def fetch(cursor: Any, query: sql.Composed, *args: Any) -> list[tuple[Any, ...]]:
    cursor.execute("set time zone 'UTC'")
    cursor.execute(query, args or None)
    return list(cursor.fetchall())


def differing_keys(
    source: Any, raw: Any, schema: str, dataset: str, table: str, key: str, bucket_size: int
) -> tuple[list[Any], int]:
    """The source keys missing from raw or different there, and the ranges compared."""
    shared = set(table_columns(raw, dataset, table))
    columns = tuple(c for c in table_columns(source, schema, table) if c in shared)
    if not columns:  # no raw copy yet: the cursor's first load brings everything
        return [], 0
    check = RangeCheck(schema, table, key, columns, bucket_size)
    source_ranges = {row[0]: row[1:] for row in fetch(source, check.ranges_query(schema))}
    raw_ranges = {row[0]: row[1:] for row in fetch(raw, check.ranges_query(dataset))}
    changed = sorted(b for b in source_ranges if source_ranges[b] != raw_ranges.get(b))
    if not changed:
        return [], len(source_ranges)
    source_rows = dict(fetch(source, check.rows_query(schema), changed))
    raw_rows = dict(fetch(raw, check.rows_query(dataset), changed))
    keys = sorted(k for k, digest in source_rows.items() if raw_rows.get(k) != digest)
    return keys, len(source_ranges)


def stale_keys(
    engine: sa.Engine, raw: Any, schema: str, dataset: str, table: str, key: str, size: int
) -> list[Any]:
    """The keys whose raw copy is missing or differs from the source (all ranges compared).

    ``raw`` is a DB-API cursor on the warehouse (dlt's own connection to it).
    """
    connection = engine.raw_connection()
    try:
        with closing(connection.cursor()) as source:
            keys, ranges = differing_keys(source, raw, schema, dataset, table, key, size)
        connection.rollback()
    finally:
        connection.close()
    log.info("ops.%s: %d key range(s) compared, %d row(s) differ", table, ranges, len(keys))
    return keys


def source_rows(
    engine: sa.Engine, schema: str, table: str, key: str, keys: list[Any], before: Any
) -> Iterator[list[dict[str, Any]]]:
    """The source rows of ``keys`` stamped before ``before`` (the cursor reads the others)."""
    query = sa.text(
        f'select * from "{schema}"."{table}" where "{key}" = any(:keys)'
        f' and "{CURSOR_COLUMN}" < :before'
    )
    with engine.connect() as connection:
        for start in range(0, len(keys), KEY_BATCH_SIZE):
            batch = keys[start : start + KEY_BATCH_SIZE]
            result = connection.execute(query, {"keys": batch, "before": before})
            rows = [dict(row._mapping) for row in result]
            if rows:
                yield rows
