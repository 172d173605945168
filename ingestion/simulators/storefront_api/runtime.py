"""The live state one app instance shares between requests."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from ingestion.simulators.storefront_api.config import ApiConfig
from ingestion.simulators.storefront_api.faults import FaultInjector
from ingestion.simulators.storefront_api.rate_limit import SlidingWindowRateLimiter
from ingestion.simulators.storefront_api.store import StorefrontStore


@dataclass(frozen=True)
class ApiRuntime:
    """Configuration, store, rate limiter and fault injector of one running app."""

    config: ApiConfig
    store: StorefrontStore
    limiter: SlidingWindowRateLimiter
    faults: FaultInjector


def runtime_of(request: Request) -> ApiRuntime:
    """The runtime of the app serving ``request`` (set by ``create_app``)."""
    runtime: ApiRuntime = request.app.state.storefront
    return runtime
