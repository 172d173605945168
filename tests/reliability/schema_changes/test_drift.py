"""Upstream schema changes never stop a source (issue 21, class 2).

Each case changes the operations database's schema on purpose (a dropped NOT NULL, a dropped
column, a renamed one, numeric to text, a narrowed integer, a new NOT NULL column, a wider
numeric scale, a timestamp become text), runs the ingestion and compares the raw tables with
the source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from ingestion.settings import ConnectionSettings
from ingestion.sources.ops.settings import TABLE_PRIMARY_KEYS
from tests.integration.ingest_support import IngestReport, IngestWorld, simulated_world
from tests.reliability.schema_changes.statements import ops_execute

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


SCALE = 0.05
CHANGED = 3
"""Rows of each table changed after its schema change."""


@dataclass(frozen=True)
class Change:
    """One schema change in the operations database and what raw must show after it."""

    name: str
    table: str
    statements: tuple[str, ...]
    compared: tuple[str, ...]
    """Source columns whose every value raw must hold after the change."""
    drift: tuple[tuple[str, str], ...]
    """(column, change) rows expected in raw_ops.schema_drift; () when none is needed."""


def first_rows(table: str, assignments: str) -> str:
    key = TABLE_PRIMARY_KEYS[table]
    return (
        f"update ops.{table} set {assignments}, updated_at = updated_at + interval '1 second'"
        f" where {key} in (select {key} from ops.{table} order by {key} limit {CHANGED})"
    )


CHANGES = (
    Change(
        "dropped NOT NULL, then nulls",
        "customers",
        (
            "alter table ops.customers alter column email drop not null",
            first_rows("customers", "email = null"),
        ),
        ("email",),
        (("email", "nullable"),),
    ),
    Change(
        "dropped column",
        "customers",
        ("alter table ops.customers drop column address",),
        ("first_name", "last_name"),
        (("address", "dropped"),),
    ),
    Change(
        "renamed column",
        "customers",
        (
            "alter table ops.customers rename column city to town",
            first_rows("customers", "town = 'Renamedville'"),
        ),
        ("town",),
        (("city", "dropped"), ("town", "added")),
    ),
    Change(
        "numeric to text",
        "order_items",
        (
            "alter table ops.order_items drop constraint order_items_unit_price_check",
            "alter table ops.order_items alter column unit_price type text",
            first_rows("order_items", "unit_price = 'n/a'"),
        ),
        ("unit_price",),
        (("unit_price", "widened"),),
    ),
    Change(
        "integer narrowed to smallint",
        "order_items",
        (
            "alter table ops.order_items alter column quantity type smallint",
            first_rows("order_items", "quantity = 7"),
        ),
        ("quantity",),
        (),
    ),
    Change(
        "new NOT NULL column",
        "orders",
        (
            "alter table ops.orders add column sales_channel text not null default 'web'",
            first_rows("orders", "sales_channel = 'phone'"),
        ),
        ("sales_channel", "status"),
        (("sales_channel", "added"),),
    ),
    Change(
        "wider numeric scale",
        "payments",
        (
            "alter table ops.payments alter column amount type numeric(14, 4)",
            first_rows("payments", "amount = amount + 0.1234"),
        ),
        ("amount",),
        (("amount", "widened"),),
    ),
    Change(
        "timestamp to text",
        "deliveries",
        (
            "alter table ops.deliveries drop constraint deliveries_check",
            "alter table ops.deliveries alter column shipped_at type text",
            first_rows("deliveries", "shipped_at = 'unknown'"),
        ),
        ("shipped_at",),
        (("shipped_at", "widened"),),
    ),
)


def source_and_raw(world: IngestWorld, table: str, columns: tuple[str, ...]) -> tuple[list, list]:
    """The key and ``columns`` of every row, as text, in the source and in raw."""
    key = TABLE_PRIMARY_KEYS[table]
    listed = ", ".join(f"{column}::text" for column in (key, *columns))
    statement = f"select {listed} from {{}}.{table} order by {key}"
    return (
        world.query(statement.format("ops"), ops=True),
        world.query(statement.format("raw_ops")),
    )


def source_columns(world: IngestWorld, table: str) -> tuple[str, ...]:
    rows = world.query(
        "select column_name from information_schema.columns where table_schema = 'ops'"
        f" and table_name = '{table}' order by ordinal_position",
        ops=True,
    )
    return tuple(row[0] for row in rows)


@dataclass(frozen=True)
class Drifted:
    world: IngestWorld
    after_change: IngestReport
    clean: IngestReport


@pytest.fixture(scope="module")
def drifted(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Drifted]:
    """A small ops world loaded once, every change of ``CHANGES`` made, loaded again, and
    loaded a third time with nothing changed."""
    root = tmp_path_factory.mktemp("schema-changes")
    with simulated_world(server_settings, root, SCALE) as world:
        assert world.ingest("ops").ok
        for change in CHANGES:
            ops_execute(world.settings, *change.statements)
        after_change = world.ingest("ops")
        yield Drifted(world, after_change, world.ingest("ops"))


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_a_schema_change_lands_as_documented_drift(drifted: Drifted, change: Change) -> None:
    world = drifted.world
    source, raw = source_and_raw(world, change.table, change.compared)
    assert raw == source, f"{change.name}: raw differs from the source"
    recorded = world.query(
        f"select column_name, change from raw_ops.schema_drift where table_name = '{change.table}'"
        f" and column_name = any(array{[c for c, _ in change.drift] or ['']})"
        " order by column_name"
    )
    assert recorded == sorted(change.drift)


def test_the_run_that_meets_the_changes_loads_everything_and_rejects_nothing(
    drifted: Drifted,
) -> None:
    report = drifted.after_change
    assert report.ok, [(u.table, u.error) for u in report.units]
    assert all(u.balanced for u in report.units)
    assert sum(u.rows_rejected for u in report.units) == 0
    assert drifted.world.scalar("select count(*) from raw_ops.rejected_records") == 0


def test_dropped_and_renamed_columns_keep_their_old_values(drifted: Drifted) -> None:
    world = drifted.world
    # the old values stay, the rows loaded since hold NULL there
    address, city = world.query(
        "select count(address), count(city) from raw_ops.customers"
        " where _dlt_load_id = (select min(_dlt_load_id) from raw_ops.customers)"
    )[0]
    assert address > 0 and city > 0
    nullable = world.query(
        "select column_name from information_schema.columns where table_schema = 'raw_ops'"
        " and table_name = 'customers' and column_name in ('address', 'city', 'email', 'town')"
        " and is_nullable = 'YES' order by 1"
    )
    assert [row[0] for row in nullable] == ["address", "city", "email", "town"]


def test_a_clean_run_after_the_changes_leaves_raw_equal_to_the_source(drifted: Drifted) -> None:
    world = drifted.world
    assert drifted.clean.ok, [(u.table, u.error) for u in drifted.clean.units]
    for table in TABLE_PRIMARY_KEYS:
        columns = tuple(c for c in source_columns(world, table) if c != TABLE_PRIMARY_KEYS[table])
        source, raw = source_and_raw(world, table, columns)
        assert raw == source, f"raw_ops.{table} differs from the source"
    # status is honest: the last ingest of ops is recorded green
    assert world.query(
        "select status from audit.pipeline_runs where source = 'ops'"
        " order by started_at desc limit 1"
    ) == [("ok",)]
