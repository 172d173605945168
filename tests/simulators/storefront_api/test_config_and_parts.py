"""The storefront API's parts without a server: configuration from the environment, the rate
limiter, the sales cursor, seeded fault draws, the OpenAPI spec."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestion.simulators.storefront_api import ApiConfig, create_app
from ingestion.simulators.storefront_api.config import (
    ENV_API_KEY,
    ENV_DUPLICATES,
    ENV_EMPTY_PAGE_RATE,
    ENV_ERROR_RATE,
    ENV_EXTRA_FIELD,
    ENV_LOST_RECORD_RATE,
    ENV_MALFORMED_RATE,
    ENV_MISSING_DATA_RATE,
    ENV_RATE_LIMIT,
    ENV_SEED,
    ENV_SLOW_RATE,
    ENV_SLOW_SECONDS,
)
from ingestion.simulators.storefront_api.cursor import (
    InvalidCursorError,
    SalesCursor,
    decode_cursor,
    encode_cursor,
)
from ingestion.simulators.storefront_api.faults import FaultInjector
from ingestion.simulators.storefront_api.rate_limit import SlidingWindowRateLimiter


def test_config_defaults_switch_every_fault_off() -> None:
    config = ApiConfig.from_env({})

    assert not config.faults_enabled
    assert config.rate_limit_per_second == 20
    assert config.api_key and config.api_key != ApiConfig.from_env({}).api_key
    assert config.api_key not in repr(config)


def test_config_reads_every_environment_variable() -> None:
    env = {
        ENV_API_KEY: "k-from-env",
        ENV_RATE_LIMIT: "7",
        ENV_ERROR_RATE: "0.1",
        ENV_SLOW_RATE: "0.2",
        ENV_SLOW_SECONDS: "1.5",
        ENV_MALFORMED_RATE: "0.3",
        ENV_EXTRA_FIELD: "true",
        ENV_DUPLICATES: "1",
        ENV_MISSING_DATA_RATE: "0.4",
        ENV_EMPTY_PAGE_RATE: "0.5",
        ENV_LOST_RECORD_RATE: "0.6",
        ENV_SEED: "99",
    }

    config = ApiConfig.from_env(env, rate_limit_per_second=9)

    assert (config.api_key, config.rate_limit_per_second, config.seed) == ("k-from-env", 9, 99)
    assert (config.error_rate, config.slow_rate, config.slow_seconds) == (0.1, 0.2, 1.5)
    assert config.malformed_rate == 0.3 and config.extra_field and config.duplicates
    assert (config.missing_data_rate, config.empty_page_rate, config.lost_record_rate) == (
        0.4,
        0.5,
        0.6,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (ENV_ERROR_RATE, "lots"),
        (ENV_ERROR_RATE, "1.5"),
        (ENV_DUPLICATES, "maybe"),
        (ENV_LOST_RECORD_RATE, "-0.1"),
    ],
)
def test_config_rejects_bad_values(variable: str, value: str) -> None:
    with pytest.raises(ValueError, match=r"STOREFRONT_|_rate"):
        ApiConfig.from_env({variable: value})


def test_rate_limiter_slides_over_one_second() -> None:
    now = [100.0]
    limiter = SlidingWindowRateLimiter(3, clock=lambda: now[0])

    assert [limiter.acquire("k") for _ in range(3)] == [None, None, None]
    assert limiter.acquire("k") == 1
    assert limiter.acquire("other") is None
    now[0] += 0.5
    assert limiter.acquire("k") == 1
    now[0] += 0.51
    assert limiter.acquire("k") is None


def test_cursor_round_trips_and_rejects_garbage() -> None:
    key = SalesCursor(datetime(2025, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "AMZ-000001")

    assert decode_cursor(encode_cursor(key)) == key
    for garbage in ("", "not-a-cursor", encode_cursor(key)[:-3]):
        with pytest.raises(InvalidCursorError):
            decode_cursor(garbage)


def test_fault_draws_are_repeatable_with_the_same_seed() -> None:
    config = ApiConfig(error_rate=0.5, slow_rate=0.5, slow_seconds=2.0, seed=7)

    def draws() -> list[tuple[float, int | None]]:
        faults = FaultInjector(config)
        return [(faults.request_delay(), faults.request_error()) for _ in range(50)]

    assert draws() == draws()
    assert {status for _, status in draws()} == {None, 500, 503}


def test_the_openapi_spec_documents_endpoints_and_bearer_auth() -> None:
    spec = create_app(ApiConfig()).openapi()

    by_key = {"/v1/products/{product_id}", "/v1/sales/{partner_order_id}"}
    assert {"/health", "/v1/products", "/v1/sales", *by_key} <= set(spec["paths"])
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"].lower() == "bearer"
    products = spec["paths"]["/v1/products"]["get"]
    assert {p["name"] for p in products["parameters"]} == {
        "limit",
        "skip",
        "updated_since",
        "sku",
    }
    assert {"200", "401", "429"} <= set(products["responses"])
    assert all("404" in spec["paths"][path]["get"]["responses"] for path in by_key)
