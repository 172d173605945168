"""The storefront API source over real HTTP: exactly once under faults, rejects, drift."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.tick import tick
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.integration.storefront_support import assert_exactly_once, ingest_with, use_small_pages

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    with simulated_world(server_settings, tmp_path_factory.mktemp("storefront")) as created:
        yield created


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    use_small_pages(monkeypatch)


def test_every_record_arrives_exactly_once_despite_errors_and_rate_limits(
    world: IngestWorld,
) -> None:
    report = ingest_with(world, error_rate=0.2, rate_limit_per_second=8, duplicates=True)
    assert report.ok, report.units
    assert_exactly_once(world)
    tags = world.scalar("select count(*) from storefront.product_tags", ops=True)
    assert world.scalar("select count(*) from raw_storefront.products__tags") == tags
    for unit in report.units:
        assert unit.balanced, unit


def test_malformed_records_are_rejected_with_payload_and_reason_never_dropped(
    world: IngestWorld,
) -> None:
    report = ingest_with(world, malformed_rate=0.2)
    assert report.ok, report.units
    products = next(u for u in report.units if u.table == "products")
    assert products.rows_rejected > 0
    assert products.records_in == products.rows_loaded + products.rows_rejected
    rejects = world.query(
        "select resource, reason, raw_payload, load_id from raw_storefront.rejected_records"
    )
    assert len(rejects) == sum(u.rows_rejected for u in report.units)
    load_ids = {load_id for u in report.units for load_id in u.load_ids}
    assert all(r[1] and r[2].startswith("{") and r[3] in load_ids for r in rejects)
    assert (
        world.scalar("select count(*) from raw_storefront.products where price <= 0 or id is null")
        == 0
    )


def test_a_new_field_becomes_a_new_column_and_a_tick_loads_only_changes(
    world: IngestWorld,
) -> None:
    first = ingest_with(world)
    assert first.ok
    loaded_before = world.scalar("select count(*) from raw_storefront.products")
    tick(world.settings, days=3, landing=world.landing)
    changed = world.scalar(
        "select count(*) from storefront.products p, sim.clock c "
        "where p.updated_at >= c.business_time - interval '3 days'",
        ops=True,
    )
    second = ingest_with(world, extra_field=True)
    assert second.ok, second.units
    products = next(u for u in second.units if u.table == "products")
    assert products.rows_loaded == changed
    columns = {
        r[0]
        for r in world.query(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw_storefront' and table_name = 'products'"
        )
    }
    assert "sustainability_score" in columns
    assert world.scalar("select count(*) from raw_storefront.products") == loaded_before
