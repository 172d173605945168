"""Order-independent checksums of every mart, to prove an incremental build equals a rebuild.

Each relation (table or view) of a schema gets its row count and the sum, as ``numeric``, of a
64-bit hash of each row: the first 16 hex digits of the ``md5`` of the row's text, the row
built from its columns in name order (so a column that an incremental model appended at the
end still lines up with a rebuilt table's). Summing makes the checksum independent of row
order; any changed value, added or missing row changes it (short of a 64-bit collision).

Columns that legitimately differ between two builds of the same data (run metadata such as
a build timestamp) are left out by name: ``EXCLUDED_COLUMNS`` by default.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import psycopg2.extensions
from psycopg2 import sql

from ingestion.database.connection import autocommit, one_row
from ingestion.settings import ConnectionSettings

MARTS_SCHEMA = "marts"
EXCLUDED_COLUMNS: tuple[str, ...] = ("dbt_built_at",)
"""Run-metadata columns left out of every checksum: they differ between builds by design."""


@dataclass(frozen=True)
class Checksum:
    """Row count and order-independent content hash of one relation."""

    rows: int
    content: Decimal


def relations(cursor: psycopg2.extensions.cursor, schema: str) -> list[str]:
    """The tables and views of ``schema``, by name."""
    cursor.execute(
        "select table_name from information_schema.tables where table_schema = %s"
        " order by table_name",
        (schema,),
    )
    return [row[0] for row in cursor.fetchall()]


def checksum_columns(
    cursor: psycopg2.extensions.cursor, schema: str, table: str, exclude: tuple[str, ...]
) -> list[str]:
    """The columns of one relation that the checksum covers, in name order."""
    cursor.execute(
        "select column_name from information_schema.columns"
        " where table_schema = %s and table_name = %s order by column_name",
        (schema, table),
    )
    return [row[0] for row in cursor.fetchall() if row[0] not in exclude]


def checksum_query(schema: str, table: str, columns: list[str]) -> sql.Composed:
    """``count(*)`` and the numeric sum of each row's 64-bit md5 prefix."""
    row_text = sql.SQL("row({})::text").format(sql.SQL(", ").join(map(sql.Identifier, columns)))
    return sql.SQL(
        "select count(*), coalesce(sum(('x' || substr(md5({row_text}), 1, 16))::bit(64)::bigint),"
        " 0) from {schema}.{table}"
    ).format(row_text=row_text, schema=sql.Identifier(schema), table=sql.Identifier(table))


def mart_checksums(
    settings: ConnectionSettings,
    schema: str = MARTS_SCHEMA,
    exclude_columns: tuple[str, ...] = EXCLUDED_COLUMNS,
) -> dict[str, Checksum]:
    """The checksum of every relation in ``schema`` of the warehouse, by relation name."""
    checksums: dict[str, Checksum] = {}
    with autocommit(settings, settings.database) as cursor:
        for table in relations(cursor, schema):
            columns = checksum_columns(cursor, schema, table, exclude_columns)
            cursor.execute(checksum_query(schema, table, columns))
            rows, content = one_row(cursor)
            checksums[table] = Checksum(int(rows), Decimal(content))
    return checksums


def differences(before: dict[str, Checksum], after: dict[str, Checksum]) -> list[str]:
    """Relations whose checksums differ, or that only one side has, by name."""
    return sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
