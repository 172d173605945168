"""Mart checksums ignore row order and excluded columns, and catch one changed value or row."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings
from ingestion.spark.mart_checksums import Checksum, differences, mart_checksums

pytestmark = pytest.mark.integration

ROWS = [(1, "alpha", 10.5), (2, "beta", None), (3, "gamma", 0.0), (4, "alpha", 10.5)]


@pytest.fixture
def schema(warehouse: ConnectionSettings) -> Iterator[str]:
    """A schema of its own in the session's warehouse, holding ``first`` and ``second``:
    the same rows inserted in opposite orders, each with a ``dbt_built_at`` that differs."""
    name = f"checksums_{uuid.uuid4().hex[:8]}"
    with autocommit(warehouse, warehouse.database) as cursor:
        cursor.execute(f"create schema {name}")
        for table, rows in (("first", ROWS), ("second", ROWS[::-1])):
            cursor.execute(
                f"create table {name}.{table} (order_id int, status text, amount numeric,"
                " dbt_built_at timestamptz)"
            )
            for row in rows:
                cursor.execute(
                    f"insert into {name}.{table} values (%s, %s, %s, clock_timestamp())", row
                )
    yield name
    with autocommit(warehouse, warehouse.database) as cursor:
        cursor.execute(f"drop schema {name} cascade")


def run(warehouse: ConnectionSettings, statement: str) -> None:
    with autocommit(warehouse, warehouse.database) as cursor:
        cursor.execute(statement)


def test_same_rows_in_another_order_give_the_same_checksum(
    warehouse: ConnectionSettings, schema: str
) -> None:
    checksums = mart_checksums(warehouse, schema)
    assert set(checksums) == {"first", "second"}
    assert checksums["first"] == checksums["second"]
    assert checksums["first"].rows == len(ROWS)


def test_excluded_columns_are_left_out_and_included_ones_count(
    warehouse: ConnectionSettings, schema: str
) -> None:
    with_metadata = mart_checksums(warehouse, schema, exclude_columns=())
    assert with_metadata["first"] != with_metadata["second"]


def test_columns_are_hashed_in_name_order_not_table_order(
    warehouse: ConnectionSettings, schema: str
) -> None:
    run(
        warehouse,
        f"create table {schema}.third as"
        f" select amount, dbt_built_at, order_id, status from {schema}.first",
    )
    checksums = mart_checksums(warehouse, schema)
    assert checksums["third"] == checksums["first"]


@pytest.mark.parametrize(
    "change",
    [
        "update {schema}.second set status = 'delta' where order_id = 3",
        "update {schema}.second set amount = 10.50001 where order_id = 1",
        "update {schema}.second set amount = null where order_id = 3",
        "delete from {schema}.second where order_id = 4",
        "insert into {schema}.second values (1, 'alpha', 10.5, now())",
    ],
    ids=["text value", "numeric value", "value to null", "row removed", "row duplicated"],
)
def test_one_changed_value_or_row_changes_the_checksum(
    warehouse: ConnectionSettings, schema: str, change: str
) -> None:
    run(warehouse, change.format(schema=schema))
    checksums = mart_checksums(warehouse, schema)
    assert checksums["first"] != checksums["second"]
    assert differences({"t": checksums["first"]}, {"t": checksums["second"]}) == ["t"]


def test_swapping_values_between_rows_changes_the_checksum(
    warehouse: ConnectionSettings, schema: str
) -> None:
    """Per-column sums would miss this: every column keeps the same multiset of values."""
    run(warehouse, f"update {schema}.second set status = 'beta' where order_id = 1")
    run(warehouse, f"update {schema}.second set status = 'alpha' where order_id = 2")
    checksums = mart_checksums(warehouse, schema)
    assert checksums["first"] != checksums["second"]


def test_differences_names_changed_and_one_sided_relations() -> None:
    same, other = Checksum(2, 5), Checksum(2, 6)
    before = {"dim_a": same, "fct_b": same, "only_before": same}
    after = {"dim_a": same, "fct_b": other, "only_after": same}
    assert differences(before, after) == ["fct_b", "only_after", "only_before"]
    assert differences(before, dict(before)) == []
