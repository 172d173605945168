"""The operations DB source against a real Postgres: full, delta, idempotent, hard deletes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.tick import tick
from ingestion.sources.ops.settings import TABLE_PRIMARY_KEYS
from tests.integration.ingest_support import IngestWorld, simulated_world

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    with simulated_world(server_settings, tmp_path_factory.mktemp("ops")) as created:
        yield created


def source_count(world: IngestWorld, table: str) -> int:
    return int(world.scalar(f"select count(*) from ops.{table}", ops=True))


def test_first_run_loads_every_row_and_accounts_for_each(world: IngestWorld) -> None:
    report = world.ingest("ops")
    assert report.ok, report.units
    for unit in report.units:
        assert unit.balanced, unit
        assert unit.rows_loaded == source_count(world, unit.table)
        assert world.scalar(f"select count(*) from raw_ops.{unit.table}") == unit.rows_loaded
    runs = world.query(
        "select source, status, rows_loaded from audit.pipeline_runs "
        f"where run_id = '{report.run_id}'"
    )
    assert runs == [("ops", "ok", sum(u.rows_loaded for u in report.units))]


def test_a_second_run_without_changes_loads_nothing_and_changes_nothing(
    world: IngestWorld,
) -> None:
    before = {t: world.table_digest(f"raw_ops.{t}") for t in TABLE_PRIMARY_KEYS}
    report = world.ingest("ops")
    assert report.ok
    assert [u.rows_loaded for u in report.units] == [0] * len(TABLE_PRIMARY_KEYS)
    assert {t: world.table_digest(f"raw_ops.{t}") for t in TABLE_PRIMARY_KEYS} == before


def test_after_a_tick_only_the_delta_loads_and_erased_customers_disappear(
    world: IngestWorld,
) -> None:
    clock_before = world.scalar("select business_time from sim.clock", ops=True)
    tick(world.settings, days=3, landing=world.landing)
    report = world.ingest("ops")
    assert report.ok, report.units
    for unit in report.units:
        changed = world.scalar(
            f"select count(*) from ops.{unit.table} where updated_at >= '{clock_before}'",
            ops=True,
        )
        assert unit.rows_loaded == changed, unit
        assert unit.balanced, unit
        key = TABLE_PRIMARY_KEYS[unit.table]
        source_keys = {r[0] for r in world.query(f"select {key} from ops.{unit.table}", ops=True)}
        raw_keys = {r[0] for r in world.query(f"select {key} from raw_ops.{unit.table}")}
        assert raw_keys == source_keys, unit.table
    customers = next(u for u in report.units if u.table == "customers")
    assert customers.rows_deleted >= 1
    assert world.scalar("select count(*) from raw_ops.customers where _deleted_in_source") == 0
    # orders of the erased customers stay, without a customer
    assert (
        world.scalar(
            "select count(*) from raw_ops.orders o left join raw_ops.customers c "
            "using (customer_id) where o.customer_id is not null and c.customer_id is null"
        )
        == 0
    )
