"""The lake's layout against what dbt reads: every source table (the customers' change log
a raw table of ops, the product snapshot exported with the source it records), partition
columns that clash with no raw column, and docs/scale-out.md naming the same folders and
partitions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingestion.lake.layout import (
    LAKE_TABLES,
    NULL_PARTITION,
    SNAPSHOT_SCHEMA,
    join,
    lake_schemas,
    lake_tables,
)
from ingestion.settings import REPO_ROOT

SOURCES_YAML = sorted((REPO_ROOT / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml"))
SCALE_OUT_DOC = REPO_ROOT / "docs" / "scale-out.md"


def dbt_source_columns() -> dict[str, set[str]]:
    """``raw_schema.table`` -> its documented columns, for every table a dbt source reads."""
    tables: dict[str, set[str]] = {}
    for path in SOURCES_YAML:
        for source in yaml.safe_load(Path(path).read_text())["sources"]:
            for table in source["tables"]:
                name = f"{source['schema']}.{table.get('identifier', table['name'])}"
                tables[name] = {column["name"] for column in table.get("columns", [])}
    return tables


def test_the_lake_holds_exactly_the_tables_dbt_reads_as_sources() -> None:
    assert SOURCES_YAML, "no dbt sources YAML found"
    assert {table.qualified_name for table in LAKE_TABLES} == set(dbt_source_columns())


def test_partition_columns_are_new_dates_of_existing_timestamps() -> None:
    columns = dbt_source_columns()
    partitioned = [table for table in LAKE_TABLES if table.partition_column]
    assert {table.name for table in partitioned} == {
        "orders",
        "order_items",
        "payments",
        "deliveries",
        "sales",
        "events",
    }
    for table in partitioned:
        assert table.timestamp_column in columns[table.qualified_name], table
        assert table.partition_column not in columns[table.qualified_name], table
        assert table.partition_column.endswith("_date"), table
    events = next(table for table in LAKE_TABLES if table.qualified_name == "raw_files.events")
    assert events.partition_columns == ("event_date",)


def test_dimensions_and_child_tables_are_not_partitioned() -> None:
    for name in (
        "raw_ops.customers",
        "raw_ops.customers_changes",
        "raw_storefront.products",
        "raw_files.marketing_spend",
    ):
        table = next(table for table in LAKE_TABLES if table.qualified_name == name)
        assert table.partition_columns == ()
    children = [table for table in LAKE_TABLES if "__" in table.name and not table.is_snapshot]
    assert children and all(table.root_table == "products" for table in children)
    assert all(table.partition_columns == () for table in children)


def test_the_snapshot_goes_with_the_source_whose_history_it_records() -> None:
    snapshots = {table.qualified_name: table for table in LAKE_TABLES if table.is_snapshot}
    assert snapshots.keys() == {"snapshots.snap_storefront__products"}
    assert snapshots["snapshots.snap_storefront__products"].source == "storefront"
    for table in snapshots.values():
        assert table.schema == SNAPSHOT_SCHEMA
        assert table.path == f"snapshots/{table.name}"
        assert table.partition_columns == () and table.root_table is None
    assert [t.name for t in lake_tables(["files"]) if t.is_snapshot] == []
    assert [t.name for t in lake_tables(["ops"]) if t.is_snapshot] == []
    assert lake_schemas() == ["raw_ops", "raw_storefront", "raw_files", "snapshots"]


def test_the_snapshot_sources_match_the_snapshots_and_are_off_on_postgres() -> None:
    snapshot_dir = REPO_ROOT / "dbt_project" / "snapshots"
    sources = [
        source
        for path in SOURCES_YAML
        for source in yaml.safe_load(Path(path).read_text())["sources"]
        if source["schema"] == SNAPSHOT_SCHEMA
    ]
    assert {s["name"] for s in sources} == {"storefront_history"}
    for source in sources:
        assert source["config"]["enabled"] == "{{ target.type != 'postgres' }}", source["name"]
        for table in source["tables"]:
            snapshot = yaml.safe_load((snapshot_dir / f"{table['name']}.yml").read_text())
            documented = {column["name"] for column in snapshot["snapshots"][0]["columns"]}
            # the snapshot's columns, but dlt's hard-delete marker (absent without deletes)
            assert {column["name"] for column in table["columns"]} == documented - {
                "_deleted_in_source"
            }, table["name"]


def test_tables_of_some_sources_only_and_an_unknown_source_refused() -> None:
    assert {table.schema for table in lake_tables(["ops"])} == {"raw_ops"}
    assert {table.schema for table in lake_tables(["storefront"])} == {
        "raw_storefront",
        SNAPSHOT_SCHEMA,
    }
    assert len(lake_tables(["ops", "files"])) == len(
        [table for table in LAKE_TABLES if table.source != "storefront"]
    )
    with pytest.raises(ValueError, match="unknown source"):
        lake_tables(["crm"])


def test_paths_are_schema_then_table_below_the_root() -> None:
    orders = next(table for table in LAKE_TABLES if table.name == "orders")
    assert orders.path == "raw_ops/orders"
    assert join("/tmp/lake/", orders.path, "ordered_date=2025-03-01") == (
        "/tmp/lake/raw_ops/orders/ordered_date=2025-03-01"
    )
    assert join("bucket/prefix", orders.path) == "bucket/prefix/raw_ops/orders"


def test_the_docs_describe_the_same_layout() -> None:
    text = SCALE_OUT_DOC.read_text()
    section = text.split("\n## The lake\n", 1)[1].split("\n## ", 1)[0]
    assert NULL_PARTITION in section
    for table in LAKE_TABLES:
        assert f"{table.path}/" in section, table.path
        if table.partition_column:
            assert f"`{table.partition_column}`" in section, table.partition_column
