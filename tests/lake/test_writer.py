"""Writing tables into a lake on a temporary folder and on fsspec's memory filesystem:
Hive partitions by the UTC date, nulls in the default partition, an empty table, the swap,
the manifest, leftovers of an interrupted export; and no DuckDB needed."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from ingestion.lake.filesystem import Lake, open_lake
from ingestion.lake.layout import NULL_PARTITION, LakeTable, join
from ingestion.lake.manifest import (
    Column,
    Manifest,
    TableEntry,
    columns_of,
    manifest_path,
    read_manifest,
    write_manifest,
)
from ingestion.lake.writer import lake_schema, remove_leftovers, stage_table, swap_in

ORDERS = LakeTable("ops", "orders", "ordered_at", "ordered_date")
CUSTOMERS = LakeTable("ops", "customers")
NEW_YORK = dt.timezone(dt.timedelta(hours=-5))
SCHEMA = pa.schema(
    [
        ("order_id", pa.int64()),
        ("amount", pa.decimal128(12, 2)),
        ("ordered_at", pa.timestamp("us", tz="UTC")),
        ("_dlt_load_id", pa.string()),
    ]
)
ROWS = [
    # 23:30 in New York is the next day in UTC: the partition is the UTC date
    (1, Decimal("10.05"), dt.datetime(2025, 3, 1, 23, 30, tzinfo=NEW_YORK), "100.1"),
    (2, Decimal("0.10"), dt.datetime(2025, 3, 1, 0, 0, tzinfo=dt.UTC), "100.1"),
    (3, None, None, "100.2"),
    (4, Decimal("99.99"), dt.datetime(2025, 3, 2, 23, 59, 59, tzinfo=dt.UTC), "100.2"),
]


def batches(rows: list[tuple[object, ...]], size: int = 2) -> Iterator[pa.RecordBatch]:
    for start in range(0, max(len(rows), 1), size):
        chunk = rows[start : start + size]
        yield pa.RecordBatch.from_pylist(
            [dict(zip(SCHEMA.names, row, strict=True)) for row in chunk], schema=SCHEMA
        )


@pytest.fixture(params=["folder", "memory"])
def lake(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Lake]:
    """A lake on a local folder, or on fsspec's memory filesystem (an object-store stand-in)."""
    if request.param == "folder":
        yield open_lake(str(tmp_path / "lake"))
        return
    opened = open_lake(f"memory://lake-{uuid.uuid4().hex[:8]}")
    yield opened
    opened.filesystem.rm(opened.root, recursive=True)


def read_back(lake: Lake, table: LakeTable) -> pa.Table:
    return ds.dataset(
        join(lake.root, table.path), filesystem=lake.filesystem, partitioning="hive"
    ).to_table()


def test_a_fact_is_partitioned_by_the_utc_date_with_nulls_in_the_default_partition(
    lake: Lake,
) -> None:
    staged = stage_table(lake, ORDERS, SCHEMA, batches(ROWS), "e1")
    assert swap_in(lake, staged, "e1") is None  # nothing there before
    folders = {file.split("/", 1)[0] for file in staged.files}
    assert folders == {
        "ordered_date=2025-03-01",
        "ordered_date=2025-03-02",
        f"ordered_date={NULL_PARTITION}",
    }
    assert staged.rows == len(ROWS)
    table = read_back(lake, ORDERS).sort_by("order_id")
    assert table.column("order_id").to_pylist() == [1, 2, 3, 4]
    assert table.column("ordered_date").to_pylist() == [
        "2025-03-02",
        "2025-03-01",
        None,
        "2025-03-02",
    ]
    assert table.schema.field("amount").type == pa.decimal128(12, 2)
    assert table.schema.field("ordered_at").type == pa.timestamp("us", tz="UTC")
    assert sum(value for value in table.column("amount").to_pylist() if value) == Decimal("110.14")
    # the partition column lives in the folder names, not in the files
    first = join(lake.root, ORDERS.path, staged.files[0])
    with lake.filesystem.open(first, "rb") as stream:
        assert "ordered_date" not in pq.read_schema(stream).names
    assert staged.schema.field("ordered_date").type == pa.date32()


def test_a_dimension_is_files_directly_in_its_folder(lake: Lake) -> None:
    staged = stage_table(lake, CUSTOMERS, SCHEMA, batches(ROWS), "e1")
    swap_in(lake, staged, "e1")
    assert all("/" not in file for file in staged.files)
    assert read_back(lake, CUSTOMERS).num_rows == len(ROWS)
    assert lake_schema(CUSTOMERS, SCHEMA) == SCHEMA


def test_an_empty_table_is_one_empty_file_with_its_columns(lake: Lake) -> None:
    staged = stage_table(lake, ORDERS, SCHEMA, batches([]), "e1")
    swap_in(lake, staged, "e1")
    assert staged.rows == 0 and len(staged.files) == 1
    table = read_back(lake, ORDERS)
    assert table.num_rows == 0
    assert set(SCHEMA.names) <= set(table.schema.names)


def test_a_second_export_replaces_the_table_and_the_old_files_are_set_aside(lake: Lake) -> None:
    swap_in(lake, stage_table(lake, ORDERS, SCHEMA, batches(ROWS), "e1"), "e1")
    changed = [(1, Decimal("20.00"), ROWS[0][2], "100.3"), *ROWS[1:]]
    staged = stage_table(lake, ORDERS, SCHEMA, batches(changed), "e2")
    assert read_back(lake, ORDERS).num_rows == len(ROWS)  # staged, not yet visible
    aside = swap_in(lake, staged, "e2")
    assert aside is not None and lake.filesystem.exists(aside)
    table = read_back(lake, ORDERS)
    assert table.num_rows == len(ROWS)  # the changed row once, not twice
    assert sorted(table.column("_dlt_load_id").to_pylist()) == ["100.1", "100.2", "100.2", "100.3"]
    assert remove_leftovers(lake, ["raw_ops"]) == [aside]
    assert not lake.filesystem.exists(aside)


def test_a_failed_write_leaves_the_table_as_it_was(lake: Lake) -> None:
    swap_in(lake, stage_table(lake, ORDERS, SCHEMA, batches(ROWS), "e1"), "e1")

    def breaking() -> Iterator[pa.RecordBatch]:
        yield from batches(ROWS[:2])
        raise RuntimeError("the warehouse went away")

    with pytest.raises(RuntimeError, match="went away"):
        stage_table(lake, ORDERS, SCHEMA, breaking(), "e2")
    assert read_back(lake, ORDERS).num_rows == len(ROWS)


def test_leftovers_of_an_interrupted_export_are_removed_and_nothing_else(lake: Lake) -> None:
    swap_in(lake, stage_table(lake, ORDERS, SCHEMA, batches(ROWS), "e1"), "e1")
    stage_table(lake, CUSTOMERS, SCHEMA, batches(ROWS), "e2")  # staged, never swapped in
    lake.filesystem.mv(
        join(lake.root, "raw_ops", "orders"),
        join(lake.root, "raw_ops", ".orders.e2.old"),
        recursive=True,
    )
    swap_in(lake, stage_table(lake, ORDERS, SCHEMA, batches(ROWS), "e2"), "e2")
    removed = remove_leftovers(lake, ["raw_ops", "raw_files"])
    assert sorted(path.rsplit("/", 1)[-1] for path in removed) == [
        ".customers.e2.new",
        ".orders.e2.old",
    ]
    assert lake.filesystem.ls(join(lake.root, "raw_ops"), detail=False) == [
        join(lake.root, "raw_ops", "orders")
    ]
    assert read_back(lake, ORDERS).num_rows == len(ROWS)


def test_a_partition_column_that_clashes_with_a_raw_column_is_refused() -> None:
    clashing = LakeTable("ops", "orders", "ordered_at", "order_id")
    with pytest.raises(ValueError, match="already has a column order_id"):
        lake_schema(clashing, SCHEMA)


def test_the_manifest_round_trips_and_is_moved_into_place(lake: Lake) -> None:
    assert read_manifest(lake) == Manifest()
    entry = TableEntry(
        path=ORDERS.path,
        partition_columns=["ordered_date"],
        row_count=4,
        columns=columns_of(lake_schema(ORDERS, SCHEMA)),
        load_ids=["100.1", "100.2"],
        files=["ordered_date=2025-03-01/part-e1-0.parquet"],
        export_id="e1",
        exported_at="2026-12-02T10:00:00+00:00",
    )
    manifest = Manifest(tables={"raw_ops.orders": entry}, export_id="e1", warehouse="shopflow")
    path = write_manifest(lake, manifest)
    assert path == manifest_path(lake) and path.endswith("/_manifest.json")
    assert read_manifest(lake) == manifest
    assert Column("amount", "decimal128(12, 2)") in entry.columns
    assert Column("ordered_date", "date32[day]") in entry.columns
    assert lake.filesystem.ls(lake.root, detail=False) == [path]  # no temporary file left


def test_the_lake_needs_no_duckdb() -> None:
    """Importing and writing with DuckDB made unimportable works (DuckDB is only a reader)."""
    script = (
        "import sys; sys.modules['duckdb'] = None\n"
        "import pyarrow as pa\n"
        "import ingestion.cli.ingest\n"
        "from ingestion.lake import LakeTable, open_lake\n"
        "from ingestion.lake.writer import stage_table, swap_in\n"
        "lake = open_lake('memory://no-duckdb')\n"
        "table = LakeTable('files', 'events', 'timestamp', 'event_date')\n"
        "schema = pa.schema([('timestamp', pa.timestamp('us', tz='UTC'))])\n"
        "batch = pa.RecordBatch.from_pylist([{'timestamp': None}], schema=schema)\n"
        "swap_in(lake, stage_table(lake, table, schema, [batch], 'e1'), 'e1')\n"
        "print('written', flush=True)\n"
        # leave without the interpreter's teardown: once in a while pyarrow's writer threads
        # abort it ("terminate called without an active exception") after the work is done
        "import os; os._exit(0)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "written\n"
