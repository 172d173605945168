"""The catalogue's database and the API over it, one of each for the whole folder: a
throwaway ops database of its own (created next to the session's ``warehouse`` databases and
dropped afterwards, so the world generator's tests never see these rows)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from ingestion.database.connection import create_database, drop_database
from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api import ApiConfig, running_api
from tests.simulators.storefront_api.catalogue import (
    HIGH_RATE_LIMIT,
    ServeApi,
    StorefrontData,
    build_products,
    build_sales,
    write_storefront,
)


@pytest.fixture(scope="package")
def storefront(warehouse: ConnectionSettings) -> Iterator[StorefrontData]:
    """A throwaway ops database holding only the hand-made storefront rows."""
    settings = warehouse.with_databases(warehouse.database, f"{warehouse.ops_database}_api")
    create_database(settings, settings.ops_database)
    products = build_products()
    data = StorefrontData(settings=settings, products=products, sales=build_sales(products))
    write_storefront(settings, data)
    yield data
    drop_database(settings, settings.ops_database)


@pytest.fixture(scope="package")
def serve(storefront: StorefrontData) -> ServeApi:
    """Start an API over the fixture database; yields an authenticated httpx client."""

    @contextmanager
    def start(timeout: float = 10.0, **config: Any) -> Iterator[httpx.Client]:
        config.setdefault("rate_limit_per_second", HIGH_RATE_LIMIT)
        api_config = ApiConfig(connection=storefront.settings, **config)
        with (
            running_api(api_config) as handle,
            httpx.Client(
                base_url=handle.base_url,
                headers={"Authorization": f"Bearer {handle.api_key}"},
                timeout=timeout,
            ) as client,
        ):
            yield client

    return start


@pytest.fixture(scope="package")
def client(serve: ServeApi) -> Iterator[httpx.Client]:
    """A client of an API with every fault off and no practical rate limit."""
    with serve() as api_client:
        yield api_client
