"""The pure rules behind upstream schema changes: what drift does to a raw column, what dlt's
schema takes from raw, which failures count against a load package, how a package's rows are
read back, and which models a partial build leaves stale (and how the report says so)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.loading.pending_packages import counts_against_package, package_rows
from ingestion.reporting.page import render_page
from ingestion.sources.ops.dlt_schema import dlt_data_type
from ingestion.sources.ops.drift import (
    ADDED,
    DROPPED,
    NULLABLE,
    WIDENED,
    Column,
    added_type,
    alteration,
    table_drifts,
)
from ingestion.transform.stale_models import StaleModel, describe_stale, exclusions, stale_nodes

RAW = {
    "id": Column("bigint", False),
    "email": Column("character varying", False),
    "city": Column("character varying", False),
    "price": Column("numeric(12,2)", False),
    "note": Column("character varying", True),
    "_dlt_id": Column("character varying", False),
}


def test_each_kind_of_change_becomes_one_drift() -> None:
    source = {
        "id": Column("smallint", False),  # narrowed: raw holds it already
        "email": Column("text", True),  # NOT NULL dropped
        "town": Column("text", False),  # city renamed to town
        "price": Column("text", False),  # numeric to text
        "note": Column("text", True),
    }
    drifts = {(d.column, d.change): d.widened_to for d in table_drifts("t", RAW, source)}
    assert drifts == {
        ("email", NULLABLE): "character varying",
        ("town", ADDED): "character varying",
        ("price", WIDENED): "text",
        ("city", DROPPED): "character varying",
    }


def test_nothing_changes_when_the_source_did_not() -> None:
    source = {name: column for name, column in RAW.items() if not name.startswith("_dlt")}
    assert table_drifts("t", RAW, source) == []


@pytest.mark.parametrize(
    ("source", "added"),
    [
        ("integer", "bigint"),
        ("character varying(40)", "character varying"),
        ("numeric(10,2)", "numeric"),
        ("date", "date"),
    ],
)
def test_a_new_column_takes_dlts_shape_of_the_source_type(source: str, added: str) -> None:
    assert added_type(source) == added


def test_alterations_never_make_a_column_not_null() -> None:
    drifts = table_drifts("t", RAW, {"id": Column("bigint", False), "x": Column("text", False)})
    statements = [repr(alteration("raw_ops", drift)) for drift in drifts]
    assert all("not null" not in s or "drop not null" in s for s in statements)
    assert any("add column if not exists" in s for s in statements)


@pytest.mark.parametrize(
    ("raw_type", "current", "wanted"),
    [
        ("text", "decimal", "text"),
        ("character varying", "timestamp", "text"),
        ("text", "text", None),
        ("numeric(10,2)", "bigint", "decimal"),
        ("numeric", "decimal", None),
        ("bigint", "bigint", None),
    ],
)
def test_dlts_schema_takes_the_raw_columns_type(
    raw_type: str, current: str, wanted: str | None
) -> None:
    assert dlt_data_type(raw_type, current) == wanted


def test_an_unreachable_warehouse_does_not_count_against_a_package() -> None:
    outer = RuntimeError("load failed")
    outer.__cause__ = psycopg2.OperationalError("connection refused")
    assert not counts_against_package(outer)
    assert counts_against_package(TypeError("not all arguments converted"))


def test_a_packages_rows_are_read_back_from_each_file_format(tmp_path: Path) -> None:
    csv = tmp_path / "items.abc.0.csv"
    csv.write_bytes(b'id,label\n1,"two\nlines"\n2,\n')
    assert [json.loads(row) for row in package_rows(csv)] == [
        {"id": "1", "label": "two\nlines"},
        {"id": "2", "label": None},
    ]
    values = tmp_path / "items.abc.0.insert_values"
    values.write_text("INSERT INTO {}(\"id\",\"label\")\nVALUES\n(1,'a'),\n(2,'b');\n")
    rows = [json.loads(row) for row in package_rows(values)]
    assert [row["values"] for row in rows] == ["(1,'a')", "(2,'b')"]
    parquet = tmp_path / "items.abc.0.parquet"
    pq.write_table(
        pa.Table.from_pylist([{"id": 1, "at": datetime(2026, 1, 1, tzinfo=UTC)}]), parquet
    )
    assert json.loads(next(package_rows(parquet)))["id"] == 1
    jsonl = tmp_path / "items.abc.0.typed-jsonl"
    jsonl.write_text('{"id": 1}\n\n{"id": 2}\n')
    assert list(package_rows(jsonl)) == ['{"id": 1}', '{"id": 2}']
    merge = tmp_path / "items.abc.0.sql"  # a merge job: statements, no rows of its own
    merge.write_text("insert into raw.items select * from staging.items;\n")
    assert list(package_rows(merge)) == []


def test_the_stale_models_are_those_downstream_of_a_failed_table(tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.stg_customers": {"resource_type": "model", "name": "stg_customers"},
        "model.p.dim_customers": {"resource_type": "model", "name": "dim_customers"},
        "test.p.unique_dim": {"resource_type": "test", "name": "unique_dim"},
        "snapshot.p.snap": {"resource_type": "snapshot", "name": "snap"},
        "model.p.stg_orders": {"resource_type": "model", "name": "stg_orders"},
    }
    children = {
        "source.p.ops.customers": ["model.p.stg_customers", "snapshot.p.snap"],
        "model.p.stg_customers": ["model.p.dim_customers"],
        "model.p.dim_customers": ["test.p.unique_dim"],
        "source.p.ops.orders": ["model.p.stg_orders"],
    }
    sources = {"source.p.ops.customers": {}, "source.p.ops.orders": {}}
    document = {"nodes": nodes, "child_map": children, "sources": sources}
    manifest.write_text(json.dumps(document))
    assert stale_nodes(manifest, [("ops", "customers")]) == {
        "dim_customers": "ops.customers",
        "snap": "ops.customers",
        "stg_customers": "ops.customers",
    }
    assert stale_nodes(tmp_path / "missing.json", [("ops", "customers")]) == {}
    assert exclusions([("ops", "customers"), ("ops", "customers")]) == ["source:ops.customers+"]


def test_the_report_says_which_models_are_stale() -> None:
    stale = [StaleModel("run-1", "dim_customers", "ops.customers")]
    notice = describe_stale(stale)
    assert "1 model(s) stale" in notice and "ops.customers failed to load" in notice
    page = render_page([], datetime(2026, 1, 1, tzinfo=UTC), None, "w", stale_notice=notice + "<b>")
    assert 'id="stale-models"' in page and "dim_customers" in page and "<b>" not in page
    assert 'id="stale-models"' not in render_page([], datetime(2026, 1, 1, tzinfo=UTC), None, "w")
