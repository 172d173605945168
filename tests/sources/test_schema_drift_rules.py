"""The pure rules behind upstream schema changes: what drift does to a raw column and what dlt's
schema takes from raw (which failures count against a load package: tests/loading; which
models a partial build leaves stale: tests/transform)."""

from __future__ import annotations

import pytest

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
