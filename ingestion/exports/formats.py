"""Writing a query's result to a binary stream as csv or parquet.

csv goes through Postgres' own ``COPY ... TO STDOUT WITH CSV HEADER``, money to the cent,
timestamps in ISO 8601 with their zone, text cells neutralised against spreadsheet formulas
unless asked not to (``cells.py``); parquet is built with
pyarrow from a server-side cursor, a batch at a time, with column types taken from the
result's Postgres types (so an empty result still has its typed columns). Parquet keeps every
value as stored: its readers see typed values, they never evaluate a cell.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from enum import StrEnum
from typing import IO, Any

import psycopg2.extensions
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion.exports.cells import csv_query, result_columns

BATCH_ROWS = 50_000
DEFAULT_DECIMAL = pa.decimal128(38, 10)
"""For a numeric column without declared precision (the marts declare theirs)."""

# Postgres type OIDs -> arrow types; anything else is written as text.
ARROW_TYPES: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    25: pa.string(),
    700: pa.float32(),
    701: pa.float64(),
    1043: pa.string(),
    1082: pa.date32(),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
}
NUMERIC_OID = 1700


class ExportFormat(StrEnum):
    """A file format of `shopflow export`; its value is the file extension."""

    CSV = "csv"
    PARQUET = "parquet"


def write_csv(
    cursor: psycopg2.extensions.cursor,
    query: str,
    stream: IO[bytes],
    *,
    neutralise_formulas: bool = True,
) -> int:
    """Write ``query``'s rows as csv with a header line; returns the number of rows.

    Money is written to the cent and timestamps in ISO 8601 with their zone; with
    ``neutralise_formulas`` (the default) a text cell a spreadsheet would evaluate gets ``'``
    in front, without it text is written as stored (``ingestion.exports.cells``).
    """
    columns = result_columns(cursor, query)
    query = csv_query(query, columns, neutralise_formulas=neutralise_formulas).as_string(cursor)
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="")
    try:
        cursor.copy_expert(f"copy ({query}) to stdout with csv header", text)
        text.flush()
    finally:
        text.detach()  # leave ``stream`` open for the caller
    return int(cursor.rowcount)


def arrow_field(column: psycopg2.extensions.Column) -> pa.Field:
    """The arrow field for one result column, from its Postgres type."""
    if column.type_code == NUMERIC_OID:
        if column.precision is not None and column.scale is not None:
            data_type = pa.decimal128(column.precision, column.scale)
        else:
            data_type = DEFAULT_DECIMAL
    else:
        data_type = ARROW_TYPES.get(column.type_code, pa.string())
    return pa.field(column.name, data_type)


def _as_text(value: Any) -> Any:
    return None if value is None else str(value)


def write_parquet(connection: psycopg2.extensions.connection, query: str, stream: IO[bytes]) -> int:
    """Write ``query``'s rows as parquet; returns the number of rows.

    Uses a server-side (named) cursor, so ``connection`` must not be in autocommit mode.
    """
    rows_written = 0
    with connection.cursor(name="shopflow_export") as cursor:
        cursor.itersize = BATCH_ROWS
        cursor.execute(query)
        batch = cursor.fetchmany(BATCH_ROWS)
        if cursor.description is None:  # a statement that returns no rows, not a question
            raise ValueError(f"the export query returns no rows to write: {query}")
        schema = pa.schema([arrow_field(column) for column in cursor.description])
        converters: list[Callable[[Any], Any] | None] = [
            _as_text if field.type == pa.string() else None for field in schema
        ]
        with pq.ParquetWriter(stream, schema) as writer:
            while True:
                columns = [
                    pa.array(
                        [convert(row[i]) if convert else row[i] for row in batch],
                        type=field.type,
                    )
                    for i, (field, convert) in enumerate(zip(schema, converters, strict=True))
                ]
                writer.write_table(pa.Table.from_arrays(columns, schema=schema))
                rows_written += len(batch)
                if len(batch) < BATCH_ROWS:
                    break
                batch = cursor.fetchmany(BATCH_ROWS)
    return rows_written
