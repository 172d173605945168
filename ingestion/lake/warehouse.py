"""Reading a raw table from the warehouse as Arrow record batches, typed as Postgres types it.

Columns keep their Postgres names and types: numeric(p, s) becomes decimal128(p, s),
timestamptz a UTC timestamp, bigint int64, text and varchar string (the mapping of
``ingestion.exports.formats``). A column of any other type (json, uuid, ...) is read as its
Postgres text form, cast in the query, so a reader sees what ``psql`` shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import psycopg2.extensions
import pyarrow as pa
from psycopg2 import sql

from ingestion.exports.formats import BATCH_ROWS, arrow_field
from ingestion.lake.layout import LakeTable

TYPED_COLUMNS = frozenset(
    {
        "bigint",
        "integer",
        "smallint",
        "boolean",
        "character varying",
        "text",
        "numeric",
        "date",
        "timestamp with time zone",
        "timestamp without time zone",
        "double precision",
        "real",
    }
)
"""information_schema data types read as they are; any other is cast to text."""


class MissingRawTableError(LookupError):
    """A table the lake needs (raw, or a snapshot) is not in the warehouse; the message says
    what to run."""


@dataclass(frozen=True)
class RawTableReader:
    """A raw table's Arrow schema and its rows, a batch at a time (read once)."""

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]


def column_types(cursor: psycopg2.extensions.cursor, table: LakeTable) -> list[tuple[str, str]]:
    """The table's columns and information_schema data types, in table order."""
    cursor.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s order by ordinal_position",
        (table.schema, table.name),
    )
    columns = [(str(name), str(data_type)) for name, data_type in cursor.fetchall()]
    if not columns:
        raise MissingRawTableError(missing_table_message(table))
    return columns


def missing_table_message(table: LakeTable) -> str:
    """What to run when ``table`` is not in the warehouse yet."""
    if table.is_snapshot:
        # a lake without the history would give Spark other versions than Postgres: refuse
        return (
            f"{table.qualified_name} is not in the warehouse yet (no dbt build on Postgres, "
            f"which records the history the lake carries): run `shopflow run` (or `dbt "
            f"snapshot --target dev`) before exporting {table.source} to the lake."
        )
    return (
        f"{table.qualified_name} is not in the warehouse: run `shopflow ingest "
        f"{table.source}` before exporting it to the lake."
    )


def select_statement(table: LakeTable, columns: list[tuple[str, str]]) -> sql.Composed:
    """``select`` of every column, the untyped ones as text."""
    items = [
        sql.Identifier(name)
        if data_type in TYPED_COLUMNS
        else sql.SQL("{}::text as {}").format(sql.Identifier(name), sql.Identifier(name))
        for name, data_type in columns
    ]
    return sql.SQL("select {} from {}").format(
        sql.SQL(", ").join(items), sql.Identifier(table.schema, table.name)
    )


def read_raw_table(
    connection: psycopg2.extensions.connection, table: LakeTable, batch_rows: int = BATCH_ROWS
) -> RawTableReader:
    """The rows of ``table`` through a server-side cursor in ``connection``'s transaction."""
    with connection.cursor() as cursor:
        statement = select_statement(table, column_types(cursor, table))
    cursor = connection.cursor(name=f"lake_{table.schema}_{table.name}")
    cursor.itersize = batch_rows
    cursor.execute(statement)
    first = cursor.fetchmany(batch_rows)  # a named cursor describes its columns after a fetch
    if cursor.description is None:
        raise ValueError(f"reading {table.qualified_name} returned no columns")
    schema = pa.schema([arrow_field(column) for column in cursor.description])

    def batches() -> Iterator[pa.RecordBatch]:
        rows = first
        try:
            while True:
                yield pa.RecordBatch.from_arrays(
                    [
                        pa.array([row[i] for row in rows], type=field.type)
                        for i, field in enumerate(schema)
                    ],
                    schema=schema,
                )
                if len(rows) < batch_rows:
                    return
                rows = cursor.fetchmany(batch_rows)
        finally:
            cursor.close()

    return RawTableReader(schema, batches())


def load_ids(cursor: psycopg2.extensions.cursor, table: LakeTable) -> list[str]:
    """The dlt load ids whose rows the table holds (a child table: those of its root rows)."""
    if table.root_table is None:
        statement = sql.SQL("select distinct _dlt_load_id from {} order by 1").format(
            sql.Identifier(table.schema, table.name)
        )
    else:
        statement = sql.SQL(
            "select distinct root._dlt_load_id from {} as child "
            "join {} as root on root._dlt_id = child._dlt_root_id order by 1"
        ).format(
            sql.Identifier(table.schema, table.name),
            sql.Identifier(table.schema, table.root_table),
        )
    cursor.execute(statement)
    return [str(load_id) for (load_id,) in cursor.fetchall() if load_id is not None]
