"""csv and parquet from a real query: header on an empty result, nothing left when it fails."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO

import psycopg2
import psycopg2.extensions
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.atomic_write import write_atomically
from ingestion.database.connection import connect
from ingestion.exports.formats import write_csv, write_parquet
from ingestion.settings import ConnectionSettings

pytestmark = pytest.mark.integration

TYPED = (
    "select 7::bigint as order_id, 'café'::text as city, 12.5::numeric(28, 6) as amount_usd,"
    " true as is_open, date '2026-01-02' as delivery_date"
)
EMPTY = f"{TYPED} where false"
# division by zero on the 3000th row: rows before it have already streamed out
FAILS_HALF_WAY = "select 1 / (g - 3000) as value from generate_series(1, 5000) as g"


@pytest.fixture
def connection(warehouse: ConnectionSettings) -> Iterator[psycopg2.extensions.connection]:
    conn = connect(warehouse)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def test_csv_has_a_header_and_its_rows(
    connection: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    target = tmp_path / "q.csv"
    with connection.cursor() as cursor:
        rows = write_atomically(target, lambda stream: write_csv(cursor, TYPED, stream))
    assert rows == 1
    assert target.read_text(encoding="utf-8").splitlines() == [
        "order_id,city,amount_usd,is_open,delivery_date",
        "7,café,12.50,t,2026-01-02",
    ]


def test_an_empty_result_still_writes_the_header(
    connection: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    csv_file, parquet_file = tmp_path / "q.csv", tmp_path / "q.parquet"
    with connection.cursor() as cursor:
        assert write_atomically(csv_file, lambda stream: write_csv(cursor, EMPTY, stream)) == 0
    assert (
        write_atomically(parquet_file, lambda stream: write_parquet(connection, EMPTY, stream)) == 0
    )
    assert csv_file.read_text() == "order_id,city,amount_usd,is_open,delivery_date\n"
    table = pq.read_table(parquet_file)
    assert table.num_rows == 0
    assert table.schema == pa.schema(
        [
            ("order_id", pa.int64()),
            ("city", pa.string()),
            ("amount_usd", pa.decimal128(28, 6)),
            ("is_open", pa.bool_()),
            ("delivery_date", pa.date32()),
        ]
    )


def test_csv_money_is_cents_ratios_keep_six_decimals_timestamps_are_utc_iso(
    connection: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    query = (
        "select 0.005::numeric(28, 6) as half_cent_usd, -2.345::numeric(28, 6) as net_amount,"
        " 0.123456::numeric(28, 6) as growth_rate, 3.5::numeric as units,"
        " timestamp '2025-12-30 10:15:07.891' as ordered_at,"
        " timestamptz '2025-12-30 12:15:07+02' as paid_at"
    )
    target = tmp_path / "finance.csv"
    with connection.cursor() as cursor:
        write_atomically(target, lambda stream: write_csv(cursor, query, stream))
    assert target.read_text(encoding="utf-8").splitlines()[1] == (
        "0.01,-2.35,0.123456,3.5,2025-12-30T10:15:07Z,2025-12-30T10:15:07Z"
    ), "half away from zero; a ratio and an unnamed number as stored; UTC to the second"


def test_parquet_keeps_the_values_and_their_types(
    connection: psycopg2.extensions.connection, tmp_path: Path
) -> None:
    target = tmp_path / "q.parquet"
    assert write_atomically(target, lambda stream: write_parquet(connection, TYPED, stream)) == 1
    assert pq.read_table(target).to_pylist() == [
        {
            "order_id": 7,
            "city": "café",
            "amount_usd": Decimal("12.500000"),
            "is_open": True,
            "delivery_date": date(2026, 1, 2),
        }
    ]


def test_parquet_writes_every_batch(
    connection: psycopg2.extensions.connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ingestion.exports.formats.BATCH_ROWS", 3)
    target = tmp_path / "q.parquet"
    query = "select g as value from generate_series(1, 10) as g order by g"
    assert write_atomically(target, lambda stream: write_parquet(connection, query, stream)) == 10
    assert pq.read_table(target).column("value").to_pylist() == list(range(1, 11))


def test_the_failing_query_does_stream_rows_before_it_fails(
    connection: psycopg2.extensions.connection,
) -> None:
    """Proof that the next test would catch a partial file: rows arrive before the error."""
    stream = io.BytesIO()
    with connection.cursor() as cursor, pytest.raises(psycopg2.errors.DivisionByZero):
        write_csv(cursor, FAILS_HALF_WAY, stream)
    assert stream.getvalue().startswith(b"value\n")
    assert stream.getvalue().count(b"\n") > 1


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_query_failing_half_way_leaves_no_file(
    connection: psycopg2.extensions.connection, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"q.{fmt}"
    cursor = connection.cursor()

    def write(stream: BinaryIO) -> int:
        if fmt == "csv":
            return write_csv(cursor, FAILS_HALF_WAY, stream)
        return write_parquet(connection, FAILS_HALF_WAY, stream)

    with pytest.raises(psycopg2.errors.DivisionByZero):
        write_atomically(target, write)
    assert list(tmp_path.iterdir()) == []
