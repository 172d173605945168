"""Cursors that cannot be fooled (issue 21, class 1), the storefront's sales: a second small
world, ingested in-process over real HTTP. A sale reported later than the lookback is missed
with the reconciliation off and found with it on; a sale stamped a year ahead does not hide
the sales of a later tick; a re-run loads nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api.late_sales import add_late_sale
from ingestion.simulators.world.tick import tick
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.integration.storefront_support import assert_exactly_once, ingest_with

pytestmark = pytest.mark.reliability


SALES_RECONCILE = "SOURCES__STOREFRONT__SALES_RECONCILE_EVERY_RUNS"
LATE_DAYS = 20
"""How late the partner reports the sale: far beyond the 7-day lookback."""
FUTURE_SALE_SQL = """
    insert into storefront.marketplace_sales
    select 'FUTURE-0001', partner_name, sku, quantity, gross_amount, currency,
        now() + interval '365 days', now()
    from storefront.marketplace_sales order by sold_at desc limit 1
    returning partner_order_id
"""
FUTURE_PRODUCT_SQL = """
    update storefront.products set price = price + 1, updated_at = now() + interval '365 days'
    where product_id = (select min(product_id) from storefront.products)
    returning product_id
"""
SALE_VALUES = "select partner_order_id, quantity, gross_amount, sold_at from {}"
PRODUCT_VALUES = "select {}, price, updated_at from {}"


@dataclass
class SalesTrial:
    late_found: dict[str, bool] = field(default_factory=dict)
    repaired: dict[str, int] = field(default_factory=dict)
    loaded_again: int = -1
    future_flagged: dict[str, int] = field(default_factory=dict)
    raw_equals_source: bool = False
    raw_products_equal_source: bool = False


def sale_loaded(world: IngestWorld, sale_id: str) -> bool:
    query = f"select count(*) from raw_storefront.sales where partner_order_id = '{sale_id}'"
    return world.scalar(query) == 1


def sales_unit(world: IngestWorld, trial: SalesTrial, step: str) -> dict[str, int]:
    """Ingest the storefront; note the sales repaired; return the rows flagged per table."""
    report = ingest_with(world)
    assert report.ok, report.units
    sales = next(u for u in report.units if u.table == "sales")
    trial.repaired[step] = sales.rows_repaired
    return {u.table: u.rows_future_stamped for u in report.units}


@pytest.fixture(scope="module")
def sales_trial(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SalesTrial]:
    trial = SalesTrial()
    with (
        pytest.MonkeyPatch.context() as env,
        simulated_world(server_settings, tmp_path_factory.mktemp("sales"), 0.05) as world,
    ):
        assert ingest_with(world).ok
        late_id, _ = add_late_sale(world.settings, late_by=dt.timedelta(days=LATE_DAYS))
        env.setenv(SALES_RECONCILE, "0")
        sales_unit(world, trial, "reconciliation off")
        trial.late_found["reconciliation off"] = sale_loaded(world, late_id)
        env.delenv(SALES_RECONCILE)
        sales_unit(world, trial, "reconciliation on")
        trial.late_found["reconciliation on"] = sale_loaded(world, late_id)
        world.query(FUTURE_SALE_SQL, ops=True)
        world.query(FUTURE_PRODUCT_SQL, ops=True)
        trial.future_flagged = sales_unit(world, trial, "future sale")
        tick(world.settings, days=3, write_files=False)
        sales_unit(world, trial, "after tick")
        assert_exactly_once(world)
        source = set(world.query(SALE_VALUES.format("storefront.marketplace_sales"), ops=True))
        trial.raw_equals_source = source == set(
            world.query(SALE_VALUES.format("raw_storefront.sales"))
        )
        products = set(
            world.query(PRODUCT_VALUES.format("product_id", "storefront.products"), True)
        )
        trial.raw_products_equal_source = products == set(
            world.query(PRODUCT_VALUES.format("id", "raw_storefront.products"))
        )
        again = ingest_with(world)
        trial.loaded_again = sum(u.rows_loaded for u in again.units)
        yield trial


def test_a_sale_reported_beyond_the_lookback_is_found(sales_trial: SalesTrial) -> None:
    """Lost with the reconciliation off (the old promise), found and named with it on."""
    assert sales_trial.late_found == {"reconciliation off": False, "reconciliation on": True}
    assert sales_trial.repaired["reconciliation on"] == 1


def test_a_future_sale_or_product_hides_nothing_later(sales_trial: SalesTrial) -> None:
    """A sale and a product stamped a year ahead load once, flagged; a later tick all lands."""
    assert sales_trial.repaired["future sale"] == 0
    assert sales_trial.future_flagged == {"products": 1, "sales": 1}
    assert sales_trial.raw_equals_source
    assert sales_trial.raw_products_equal_source
    assert sales_trial.loaded_again == 0
