"""The app factory: one FastAPI app serving the ``storefront`` schema of the ops database."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ingestion.database.server_settings import connection_settings
from ingestion.simulators.storefront_api.config import ApiConfig
from ingestion.simulators.storefront_api.errors import install_error_handlers
from ingestion.simulators.storefront_api.faults import FaultInjector
from ingestion.simulators.storefront_api.rate_limit import SlidingWindowRateLimiter
from ingestion.simulators.storefront_api.routes import health_router, v1_router
from ingestion.simulators.storefront_api.runtime import ApiRuntime
from ingestion.simulators.storefront_api.store import StorefrontStore

logger = logging.getLogger(__name__)

DESCRIPTION = """
The simulated storefront service of ShopFlow: its product catalogue and the sales its
marketplace partners report. Shapes are fixed in `docs/source-systems.md`.

Every `/v1` endpoint needs `Authorization: Bearer <key>` and is rate limited per key.
Faults (errors, slow answers, malformed records, an extra field, duplicates) can be
switched on when the server starts.
"""


def create_app(config: ApiConfig) -> FastAPI:
    """Build the API; it connects to the database only when a request needs it."""
    settings = config.connection or connection_settings()
    runtime = ApiRuntime(
        config=config,
        store=StorefrontStore(settings),
        limiter=SlidingWindowRateLimiter(config.rate_limit_per_second),
        faults=FaultInjector(config),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger.info(
            "storefront API serving %s (rate limit %d/s, faults %s)",
            settings.ops_database,
            config.rate_limit_per_second,
            "on" if config.faults_enabled else "off",
        )
        try:
            yield
        finally:
            runtime.store.close()

    app = FastAPI(
        title="ShopFlow Storefront API (simulator)",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.storefront = runtime
    install_error_handlers(app)
    app.include_router(health_router)
    app.include_router(v1_router)
    return app
