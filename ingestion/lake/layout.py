"""The lake's layout, in one place: which raw tables it holds, where, and how they are split.

The lake is an export of the warehouse's raw layer as landed and validated there, so dbt on
Spark reads exactly what dbt on Postgres read. Every raw table a dbt source reads has a
folder ``<lake>/<raw schema>/<table>/`` of Parquet files. Fact tables are Hive-partitioned by
the UTC date of their business timestamp (``<table>/<date column>=2025-03-01/*.parquet``; a
row without a timestamp goes to ``<date column>=__HIVE_DEFAULT_PARTITION__``); dimensions and
dlt's child tables are not partitioned. ``_manifest.json`` at the root lists what a reader
may trust. docs/scale-out.md ("The lake") describes the same layout; a test keeps the two in
step.

The customers' history is a raw table like the others, their change log
``raw_ops.customers_changes`` (erased values already nulled on Postgres), from which both
engines build the versions with the same SQL. The products' SCD2 history is the dbt snapshot
as Postgres recorded it (every version), in ``<lake>/snapshots/<snapshot>/``, exported with
``storefront``; Spark's versions model reads it, so both engines build on one history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingestion.sources.files.settings import DATASET_NAME as FILES_SCHEMA
from ingestion.sources.ops.settings import DATASET_NAME as OPS_SCHEMA
from ingestion.sources.storefront.settings import DATASET_NAME as STOREFRONT_SCHEMA

MANIFEST_NAME = "_manifest.json"
PARTITION_FLAVOR = "hive"
NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
"""The folder of rows whose timestamp is null: Hive's and Spark's name, pyarrow's default."""

SOURCE_SCHEMAS: dict[str, str] = {
    "ops": OPS_SCHEMA,
    "storefront": STOREFRONT_SCHEMA,
    "files": FILES_SCHEMA,
}
"""`shopflow ingest`'s source names and the raw schema each one lands in."""
SNAPSHOT_SCHEMA = "snapshots"
"""The warehouse schema of the dbt snapshots (dbt_project.yml), and their folder in the lake."""


@dataclass(frozen=True)
class LakeTable:
    """One raw table in the lake."""

    source: str
    name: str
    timestamp_column: str | None = None
    """The business timestamp whose UTC date partitions the table; None: not partitioned."""
    partition_column: str | None = None
    """The partition's DATE column, named so that it clashes with no raw column."""
    root_table: str | None = None
    """For a dlt child table (no ``_dlt_load_id`` of its own): the table its rows belong to."""
    is_snapshot: bool = False
    """A dbt snapshot of the source's history (schema ``snapshots``), not a raw table."""

    @property
    def schema(self) -> str:
        return SNAPSHOT_SCHEMA if self.is_snapshot else SOURCE_SCHEMAS[self.source]

    @property
    def qualified_name(self) -> str:
        """``raw_ops.orders``: the warehouse table and the manifest's key."""
        return f"{self.schema}.{self.name}"

    @property
    def path(self) -> str:
        """The table's folder relative to the lake's root: ``raw_ops/orders``."""
        return f"{self.schema}/{self.name}"

    @property
    def partition_columns(self) -> tuple[str, ...]:
        return (self.partition_column,) if self.partition_column else ()


def _fact(source: str, name: str, timestamp_column: str, partition_column: str) -> LakeTable:
    return LakeTable(source, name, timestamp_column, partition_column)


def _child(name: str) -> LakeTable:
    return LakeTable("storefront", name, root_table="products")


def _snapshot(source: str, name: str) -> LakeTable:
    return LakeTable(source, name, is_snapshot=True)


LAKE_TABLES: tuple[LakeTable, ...] = (
    LakeTable("ops", "customers"),
    LakeTable("ops", "customers_changes"),
    _fact("ops", "orders", "ordered_at", "ordered_date"),
    _fact("ops", "order_items", "created_at", "created_date"),
    _fact("ops", "payments", "paid_at", "paid_date"),
    _fact("ops", "deliveries", "shipped_at", "shipped_date"),
    LakeTable("ops", "rejected_records"),
    LakeTable("storefront", "products"),
    _child("products__images"),
    _child("products__reviews"),
    _child("products__tags"),
    _fact("storefront", "sales", "sold_at", "sold_date"),
    LakeTable("storefront", "rejected_records"),
    _fact("files", "events", "timestamp", "event_date"),
    LakeTable("files", "marketing_spend"),
    LakeTable("files", "rejected_records"),
    LakeTable("files", "quarantined_files"),
    _snapshot("storefront", "snap_storefront__products"),
)
"""Every table a dbt source reads: the raw tables, and on Spark the product snapshot (a test
compares with the sources' YAML)."""


def lake_tables(sources: Sequence[str]) -> list[LakeTable]:
    """The tables of the named sources, in ``LAKE_TABLES`` order."""
    unknown = [name for name in sources if name not in SOURCE_SCHEMAS]
    if unknown:
        raise ValueError(
            f"unknown source(s): {', '.join(unknown)}; known: {', '.join(SOURCE_SCHEMAS)}"
        )
    return [table for table in LAKE_TABLES if table.source in sources]


def lake_schemas() -> list[str]:
    """Every schema folder below the lake's root."""
    return list(dict.fromkeys(table.schema for table in LAKE_TABLES))


def join(root: str, *parts: str) -> str:
    """A path below ``root`` in the lake's filesystem: fsspec paths use ``/`` everywhere."""
    return "/".join([root.rstrip("/"), *(part.strip("/") for part in parts)])
