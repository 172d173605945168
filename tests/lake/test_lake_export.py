"""`shopflow ingest --destination lake` on a real warehouse, read back with pyarrow: every raw
table with the warehouse's rows, columns and money to the cent, the product snapshot with
Postgres's versions (recorded by the export itself on a warehouse never built), an erasure
that reaches the customers' change log at the next export without a dbt build between,
partitions that are the UTC dates of the timestamps, the manifest, re-runs without duplicates
(also after rows changed in place), a failed export that leaves the lake as it was, and the
run lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from typer.testing import CliRunner, Result

from ingestion.benchmarking.cli_world import cli_environment
from ingestion.cli.app import app
from ingestion.cli.locking import BUSY_EXIT_CODE
from ingestion.lake import LAKE_TABLES, LakeTable, Manifest, open_lake, read_manifest
from ingestion.lake.layout import NULL_PARTITION
from ingestion.settings import (
    ENV_HOST,
    ENV_LAKE_URL,
    ENV_LANDING_DIR,
    ConnectionSettings,
)
from ingestion.simulators.world.build import build_world
from ingestion.simulators.world.landing import FileFaults, write_landing_files
from ingestion.simulators.world.tick import tick
from ingestion.stage_runner.run_lock import run_lock
from tests.integration.ingest_support import SCALE, IngestWorld, private_world
from tests.reliability.erasure.erasure_world import PERSONAL, ErasureWorld, erase_in_source

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MONEY_COLUMNS = {
    "raw_ops.payments": "amount",
    "raw_ops.order_items": "unit_price",
    "raw_storefront.products": "price",
    "raw_storefront.sales": "gross_amount",
    "raw_files.marketing_spend": "spend",
}
PRIMARY_KEYS = {
    "raw_ops.customers": "customer_id",
    "raw_ops.customers_changes": "_change_id",
    "raw_ops.orders": "order_id",
    "raw_ops.order_items": "order_item_id",
    "raw_ops.payments": "payment_id",
    "raw_ops.deliveries": "delivery_id",
    "raw_storefront.products": "id",
    "raw_files.events": "event_id",
}
PARTITIONED = [table for table in LAKE_TABLES if table.partition_column]
SNAPSHOTS = {table.name: table for table in LAKE_TABLES if table.is_snapshot}


@dataclass(frozen=True)
class LakeWorld:
    world: IngestWorld
    lake_dir: Path
    before_any_build: Result
    """The first export, on a warehouse dbt has never built."""

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(app, list(args))

    def export(self, *args: str) -> Result:
        result = self.cli("ingest", "--destination", "lake", *args)
        assert result.exit_code == 0, result.output
        return result

    def manifest(self) -> Manifest:
        return read_manifest(open_lake(str(self.lake_dir)))

    def read(self, table: LakeTable) -> pa.Table:
        return ds.dataset(self.lake_dir / table.path, partitioning="hive").to_table()

    def count(self, table: LakeTable) -> int:
        return int(self.world.scalar(f"select count(*) from {table.qualified_name}"))


@pytest.fixture(scope="module")
def lake(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LakeWorld]:
    """A warehouse loaded from a small world (with a bad events and a bad spend file, so the
    rejected and quarantined tables have rows), never built by dbt, exported once to a lake
    in a temporary folder (the export records the history first)."""
    root = tmp_path_factory.mktemp("lake")
    with (
        private_world(server_settings, root, prefix="shopflow_lake_") as world,
        pytest.MonkeyPatch.context() as patch,
    ):
        environment = {
            **cli_environment(world.settings, root),
            ENV_LANDING_DIR: str(world.landing),
            ENV_LAKE_URL: str(root / "lake"),
        }
        if not world.settings.external:
            patch.delenv(ENV_HOST, raising=False)
        for name, value in environment.items():
            patch.setenv(name, value)
        build_world(world.settings, scale=SCALE)
        faults = FileFaults(truncated_json=True, wrong_columns=True)
        write_landing_files(world.settings, faults=faults, landing=world.landing)
        loaded = CliRunner().invoke(app, ["ingest"])
        assert loaded.exit_code == 0, loaded.output
        first = CliRunner().invoke(app, ["ingest", "--destination", "lake"])
        yield LakeWorld(world, root / "lake", first)


def test_every_raw_table_is_in_the_lake_with_the_warehouse_rows_and_columns(
    lake: LakeWorld,
) -> None:
    manifest = lake.manifest()
    assert set(manifest.tables) == {table.qualified_name for table in LAKE_TABLES}
    for table in LAKE_TABLES:
        read = lake.read(table)
        assert read.num_rows == lake.count(table) == manifest.tables[table.qualified_name].row_count
        columns = dict(
            lake.world.query(
                "select column_name, data_type from information_schema.columns "
                f"where table_schema = '{table.schema}' and table_name = '{table.name}'"
            )
        )
        assert set(read.schema.names) == set(columns) | set(table.partition_columns), table
        for name, data_type in columns.items():
            arrow_type = read.schema.field(name).type
            expected = {
                "bigint": pa.int64(),
                "character varying": pa.string(),
                "timestamp with time zone": pa.timestamp("us", tz="UTC"),
                "boolean": pa.bool_(),
                "date": pa.date32(),
                "text": pa.string(),
            }.get(data_type)
            if data_type == "numeric":
                assert pa.types.is_decimal(arrow_type), (table, name)
            else:
                assert arrow_type == expected, (table, name, data_type)
    for name in ("raw_files.rejected_records", "raw_files.quarantined_files"):
        assert manifest.tables[name].row_count > 0, name  # the faults landed somewhere


def test_numeric_columns_keep_precision_and_money_sums_equal_to_the_cent(lake: LakeWorld) -> None:
    for qualified_name, column in MONEY_COLUMNS.items():
        table = next(t for t in LAKE_TABLES if t.qualified_name == qualified_name)
        precision, scale = lake.world.query(
            "select numeric_precision, numeric_scale from information_schema.columns "
            f"where table_schema = '{table.schema}' and table_name = '{table.name}' "
            f"and column_name = '{column}'"
        )[0]
        values = lake.read(table).column(column)
        assert values.type == pa.decimal128(precision, scale), qualified_name
        in_lake = sum((value for value in values.to_pylist() if value is not None), Decimal(0))
        in_warehouse = lake.world.scalar(f"select coalesce(sum({column}), 0) from {qualified_name}")
        assert in_lake == in_warehouse, qualified_name
        assert in_lake > 0, qualified_name


def test_an_export_before_any_dbt_build_records_the_history_first(lake: LakeWorld) -> None:
    assert lake.before_any_build.exit_code == 0, lake.before_any_build.output
    for table in SNAPSHOTS.values():
        assert lake.count(table) > 0
        assert lake.read(table).num_rows == lake.count(table)


def test_the_snapshots_hold_every_version_postgres_recorded(lake: LakeWorld) -> None:
    for name, table in SNAPSHOTS.items():
        read = lake.read(table)
        scd_ids = read.column("dbt_scd_id").to_pylist()
        in_postgres = {
            row[0] for row in lake.world.query(f"select dbt_scd_id from snapshots.{name}")
        }
        assert read.num_rows == lake.count(table) >= len(in_postgres) > 0, name
        assert set(scd_ids) == in_postgres, name
        assert read.schema.field("dbt_valid_to").type == pa.timestamp("us", tz="UTC"), name
        assert len(scd_ids) == len(set(scd_ids)), name  # each version once


def test_partitions_are_the_utc_dates_of_the_business_timestamps(lake: LakeWorld) -> None:
    for table in PARTITIONED:
        assert table.timestamp_column and table.partition_column
        read = lake.read(table)
        timestamps = read.column(table.timestamp_column).to_pylist()
        partitions = read.column(table.partition_column).to_pylist()
        expected = [
            None if ts is None else ts.astimezone(dt.UTC).date().isoformat() for ts in timestamps
        ]
        assert partitions == expected, table
        folders = {p.name for p in (lake.lake_dir / table.path).iterdir()}
        assert all(name.startswith(f"{table.partition_column}=") for name in folders), table
    deliveries = next(t for t in PARTITIONED if t.name == "deliveries")
    unshipped = lake.world.scalar(
        "select count(*) from raw_ops.deliveries where shipped_at is null"
    )
    if unshipped:  # not shipped yet: kept, in the default partition
        folder = lake.lake_dir / deliveries.path / f"shipped_date={NULL_PARTITION}"
        assert ds.dataset(folder).count_rows() == unshipped


def test_the_manifest_lists_exactly_the_files_and_the_load_ids(lake: LakeWorld) -> None:
    manifest = lake.manifest()
    for table in LAKE_TABLES:
        entry = manifest.tables[table.qualified_name]
        folder = lake.lake_dir / table.path
        on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*.parquet")}
        assert set(entry.files) == on_disk, table
        assert entry.partition_columns == list(table.partition_columns)
        load_id_of = (
            f"select distinct _dlt_load_id from {table.qualified_name}"
            if table.root_table is None
            else f"select distinct r._dlt_load_id from {table.qualified_name} c "
            f"join {table.schema}.{table.root_table} r on r._dlt_id = c._dlt_root_id"
        )
        assert entry.load_ids == sorted(row[0] for row in lake.world.query(load_id_of)), table
    assert list(lake.lake_dir.rglob(".*")) == []  # no staging or set-aside folder left
    assert manifest.warehouse == lake.world.settings.database


def test_each_export_is_one_audit_row_per_source(lake: LakeWorld) -> None:
    run_id = lake.manifest().export_id
    rows = lake.world.query(
        "select source, status, rows_loaded, command from audit.pipeline_runs "
        f"where run_id = '{run_id}' and stage = 'lake' order by source"
    )
    assert [row[:2] for row in rows] == [("files", "ok"), ("ops", "ok"), ("storefront", "ok")]
    assert sum(row[2] for row in rows) == sum(lake.count(table) for table in LAKE_TABLES)


def test_a_second_export_without_changes_replaces_and_duplicates_nothing(lake: LakeWorld) -> None:
    before = lake.manifest()
    lake.export()
    after = lake.manifest()
    assert after.export_id != before.export_id
    for table in LAKE_TABLES:
        entry = after.tables[table.qualified_name]
        assert entry.row_count == before.tables[table.qualified_name].row_count == lake.count(table)
        assert all(after.export_id in name for name in entry.files), table
        assert lake.read(table).num_rows == lake.count(table)


def test_after_rows_changed_in_place_each_key_is_in_the_lake_once(lake: LakeWorld) -> None:
    old_load_ids = set(lake.manifest().tables["raw_ops.orders"].load_ids)
    tick(lake.world.settings, days=3, landing=lake.world.landing)
    loaded = lake.cli("ingest")
    assert loaded.exit_code == 0, loaded.output
    lake.export()
    manifest = lake.manifest()
    assert set(manifest.tables["raw_ops.orders"].load_ids) - old_load_ids  # new loads covered
    for qualified_name, key in PRIMARY_KEYS.items():
        table = next(t for t in LAKE_TABLES if t.qualified_name == qualified_name)
        keys = lake.read(table).column(key).to_pylist()
        assert len(keys) == len(set(keys)) == lake.count(table), qualified_name
    statuses = dict(lake.world.query("select order_id, status from raw_ops.orders"))
    read = lake.read(next(t for t in LAKE_TABLES if t.qualified_name == "raw_ops.orders"))
    assert (
        dict(
            zip(read.column("order_id").to_pylist(), read.column("status").to_pylist(), strict=True)
        )
        == statuses
    )


def test_an_export_of_one_source_keeps_the_other_sources_entries(lake: LakeWorld) -> None:
    before = lake.manifest()
    lake.export("files")
    after = lake.manifest()
    for name, entry in after.tables.items():
        if name.startswith("raw_files."):
            assert entry.export_id == after.export_id != before.tables[name].export_id
        else:
            assert entry == before.tables[name]


def visible_files(root: Path) -> list[Path]:
    """Every file a reader of the table folders sees (not inside a hidden staging folder)."""
    return sorted(
        path
        for path in root.rglob("*")
        if not any(part.startswith(".") for part in path.relative_to(root).parts)
    )


def test_a_failed_export_leaves_the_lake_as_it_was(
    lake: LakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest_file = lake.lake_dir / "_manifest.json"
    manifest_before = manifest_file.read_bytes()
    files_before = visible_files(lake.lake_dir)

    def broken(cursor: object, table: LakeTable) -> list[str]:
        raise RuntimeError(f"lost the connection while reading {table.name}")

    monkeypatch.setattr("ingestion.lake.export.load_ids", broken)
    result = lake.cli("ingest", "--destination", "lake", "ops")
    assert result.exit_code == 1
    assert "the lake is left as it was" in result.output
    assert manifest_file.read_bytes() == manifest_before
    assert visible_files(lake.lake_dir) == files_before
    assert list(lake.lake_dir.rglob(".*"))  # what was staged before the failure
    failed = lake.world.query(
        "select status, error from audit.pipeline_runs where stage = 'lake' and source = 'ops' "
        "order by started_at desc limit 1"
    )[0]
    assert failed[0] == "failed" and "lost the connection" in failed[1]
    monkeypatch.undo()
    lake.export("ops")  # the next export works and clears what the failed one left
    assert list(lake.lake_dir.rglob(".*")) == []


def test_an_export_waits_for_the_run_lock_like_every_ingest(lake: LakeWorld) -> None:
    with run_lock(lake.world.settings, "another run", wait_seconds=0):
        result = lake.cli("ingest", "--destination", "lake", "--wait", "0")
    assert result.exit_code == BUSY_EXIT_CODE, result.output


def test_an_erasure_reaches_the_lake_at_the_next_export_without_a_dbt_build(
    lake: LakeWorld,
) -> None:
    changes = next(t for t in LAKE_TABLES if t.qualified_name == "raw_ops.customers_changes")
    erased = [
        row[0]
        for row in lake.world.query(
            "select customer_id from raw_ops.customers where phone is not null "
            "order by customer_id limit 2"
        )
    ]
    erase_in_source(ErasureWorld(lake.world.settings), erased)
    loaded = lake.cli("ingest", "ops")
    assert loaded.exit_code == 0, loaded.output
    lake.export("ops")  # its history stage runs the hook that nulls their personal data
    read = lake.read(changes).to_pylist()
    history = [row for row in read if row["customer_id"] in erased]
    assert {row["customer_id"] for row in history} == set(erased)
    assert all(row[column] is None for row in history for column in PERSONAL)
    # their earlier states stay (without personal data), and each one's delete is recorded
    assert all(
        any(row["_cdc_op"] != "delete" for row in history if row["customer_id"] == key)
        for key in erased
    )
    assert {row["customer_id"] for row in history if row["_cdc_op"] == "delete"} == set(erased)
    assert any(row["email"] is not None for row in read)  # the others keep theirs
