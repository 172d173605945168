"""What every ``/v1`` request passes before it is answered: key, rate limit, injected faults."""

from __future__ import annotations

import asyncio
import logging
import secrets

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ingestion.simulators.storefront_api.errors import ApiError
from ingestion.simulators.storefront_api.runtime import runtime_of

logger = logging.getLogger(__name__)

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="The API key, sent as `Authorization: Bearer <key>`.",
)

FAULT_DETAILS = {
    500: ("internal_error", "injected fault: the storefront service failed"),
    503: ("service_unavailable", "injected fault: the storefront service is unavailable"),
}


async def guard_request(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Security(bearer_scheme),
) -> None:
    """Refuse the request (401, 429, injected 500/503) or let it through, maybe slowly."""
    runtime = runtime_of(request)
    api_key = runtime.config.api_key
    if credentials is None:
        raise ApiError(401, "unauthorized", "missing 'Authorization: Bearer <key>' header")
    if not secrets.compare_digest(credentials.credentials.encode(), api_key.encode()):
        raise ApiError(401, "unauthorized", "the API key is not valid")
    retry_after = runtime.limiter.acquire(api_key)
    if retry_after is not None:
        raise ApiError(
            429,
            "rate_limited",
            f"more than {runtime.config.rate_limit_per_second} requests per second",
            headers={"Retry-After": str(retry_after)},
        )
    delay = runtime.faults.request_delay()
    if delay > 0:
        logger.info("injected fault: answering %s after %.1f s", request.url.path, delay)
        await asyncio.sleep(delay)
    status = runtime.faults.request_error()
    if status is not None:
        error, detail = FAULT_DETAILS[status]
        logger.info("injected fault: %s answers %d", request.url.path, status)
        headers = {"Retry-After": "1"} if status == 503 else None
        raise ApiError(status, error, detail, headers=headers)
