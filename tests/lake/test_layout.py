"""The lake's layout against what dbt reads: every source table, partition columns that
clash with no raw column, and docs/scale-out.md naming the same folders and partitions."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ingestion.lake.layout import LAKE_TABLES, NULL_PARTITION, join, lake_tables
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
    for name in ("raw_ops.customers", "raw_storefront.products", "raw_files.marketing_spend"):
        table = next(table for table in LAKE_TABLES if table.qualified_name == name)
        assert table.partition_columns == ()
    children = [table for table in LAKE_TABLES if "__" in table.name]
    assert children and all(table.root_table == "products" for table in children)
    assert all(table.partition_columns == () for table in children)


def test_tables_of_some_sources_only_and_an_unknown_source_refused() -> None:
    assert {table.schema for table in lake_tables(["ops"])} == {"raw_ops"}
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
