"""Shared by the storefront ingestion tests: serve a world's storefront with faults, ingest it."""

from __future__ import annotations

import pytest

from ingestion.loading.registry import StorefrontEndpoint
from ingestion.loading.runner import IngestReport
from ingestion.simulators.storefront_api import ApiConfig, running_api
from tests.integration.ingest_support import IngestWorld

SMALL_PAGES = {
    "SOURCES__STOREFRONT__PRODUCTS_PAGE_SIZE": "7",
    "SOURCES__STOREFRONT__SALES_PAGE_SIZE": "9",
    "SOURCES__STOREFRONT__REQUEST_BACKOFF_FACTOR": "0.05",
}
"""Many pages and a short backoff, so faults hit pagination mid-stream and tests stay quick."""


def use_small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Set :data:`SMALL_PAGES` for the current test."""
    for name, value in SMALL_PAGES.items():
        monkeypatch.setenv(name, value)


def ingest_with(world: IngestWorld, **faults: object) -> IngestReport:
    """Serve the world's storefront (with the given faults) and ingest it."""
    config = ApiConfig(connection=world.settings, **{"rate_limit_per_second": 1000, **faults})
    with running_api(config) as api:
        return world.ingest("storefront", endpoint=StorefrontEndpoint(api.base_url, api.api_key))


def assert_exactly_once(world: IngestWorld) -> None:
    """Every product and every sale of the store is in the raw tables exactly once."""
    products = world.scalar("select count(*) from storefront.products", ops=True)
    sales = world.scalar("select count(*) from storefront.marketplace_sales", ops=True)
    assert world.query("select count(*), count(distinct id) from raw_storefront.products") == [
        (products, products)
    ]
    assert world.query(
        "select count(*), count(distinct partner_order_id) from raw_storefront.sales"
    ) == [(sales, sales)]
