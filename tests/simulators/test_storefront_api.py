"""The storefront API simulator over real HTTP: contract shapes, pagination, auth, limits, faults.

The integration tests fill the ``storefront`` schema of a throwaway ops database of their own
(created next to the session's ``warehouse`` databases and dropped afterwards, so the world
generator's tests never see these rows) with a small hand-made catalogue: 250 products with
tags, images and reviews, many sharing an ``updated_at``; 320 marketplace sales with ties,
microseconds and sales on both sides of a midnight.
"""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import psycopg2.extras
import pytest

import ingestion.simulators
from ingestion.database.connection import create_database, drop_database
from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api import ApiConfig, ApiHandle, create_app, running_api
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
from ingestion.simulators.storefront_api.faults import FaultInjector, RecordFields
from ingestion.simulators.storefront_api.late_sales import add_late_sale
from ingestion.simulators.storefront_api.rate_limit import SlidingWindowRateLimiter

SCHEMA_SQL = Path(ingestion.simulators.__file__).resolve().parent / "world" / "schema.sql"

PRODUCT_COUNT = 250
SALE_COUNT = 320
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
TAG_WORDS = ("outdoor", "summer", "gift", "eco", "sale", "new")
PARTNERS = {"AMZ": "Amazon", "EBY": "eBay", "ETS": "Etsy"}
MAX_PAGES = 400  # every pagination loop in this file stops after this many requests
HIGH_RATE_LIMIT = 100_000

PRODUCT_ID_FIELDS = RecordFields(id="id", amount="price", timestamp="updated_at")
SALE_ID_FIELDS = RecordFields(id="partner_order_id", amount="gross_amount", timestamp="sold_at")


# --------------------------------------------------------------------------- fixture data


@dataclass
class StorefrontData:
    """The rows written to the throwaway database, as the API should show them."""

    settings: ConnectionSettings
    products: list[dict[str, Any]] = field(default_factory=list)
    sales: list[dict[str, Any]] = field(default_factory=list)

    def product_ids_in_order(self, updated_since: datetime | None = None) -> list[int]:
        """Product ids ordered by (updated_at, id), optionally strictly after a time."""
        kept = [
            p for p in self.products if updated_since is None or p["updated_at"] > updated_since
        ]
        return [p["id"] for p in sorted(kept, key=lambda p: (p["updated_at"], p["id"]))]

    def sale_ids_in_order(self, start: date | None = None, end: date | None = None) -> list[str]:
        """Partner order ids with start <= sold_at's day <= end, ordered by (sold_at, id)."""
        kept = [
            s
            for s in self.sales
            if (start is None or s["sold_at"].date() >= start)
            and (end is None or s["sold_at"].date() <= end)
        ]
        ordered = sorted(kept, key=lambda s: (s["sold_at"], s["partner_order_id"]))
        return [s["partner_order_id"] for s in ordered]


def build_products() -> list[dict[str, Any]]:
    """250 products; ``updated_at`` takes 97 values, so most share it with others."""
    products = []
    review_id = 5000
    for i in range(PRODUCT_COUNT):
        product_id = 1000 + i
        reviews = []
        for n in range(i % 4):
            review_id += 1
            reviews.append(
                {
                    "id": review_id,
                    "rating": 1 + (i + n) % 5,
                    "comment": f"Review {n} of product {product_id}",
                    "reviewer_name": f"Reviewer {review_id}",
                    "reviewer_email": f"reviewer{review_id}@example.com",
                    "date": BASE_TIME + timedelta(days=n, hours=i % 24),
                }
            )
        products.append(
            {
                "id": product_id,
                "sku": f"SKU-{product_id:06d}",
                "title": f"Product {product_id}",
                "brand": f"Brand {i % 9}",
                "category": ("home", "outdoor", "kitchen", "garden")[i % 4],
                "price": Decimal(f"{i % 50 + 1}.{i % 100:02d}"),
                "currency": CURRENCIES[i % len(CURRENCIES)],
                "stock": i % 30,
                "is_deleted": i % 17 == 0,
                "created_at": BASE_TIME - timedelta(days=30, minutes=-i),
                "updated_at": BASE_TIME + timedelta(hours=(i * 37) % 97),
                "tags": sorted(TAG_WORDS[(i + k) % len(TAG_WORDS)] for k in range(i % 3)),
                "images": [
                    {
                        "url": f"https://img.example.com/{product_id}/{n}.jpg",
                        "width": 800 + n,
                        "height": 600 + n,
                    }
                    for n in range(i % 3)
                ],
                "reviews": reviews,
            }
        )
    return products


def build_sales(products: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """320 sales over Jan-Mar 2025, with ties on sold_at and both sides of a midnight."""
    sales = []
    for j in range(SALE_COUNT):
        prefix = tuple(PARTNERS)[j % len(PARTNERS)]
        sold_at = BASE_TIME + timedelta(minutes=(j * 613) % (90 * 24 * 60), microseconds=j)
        if j % 10 == 1:
            sold_at = sales[-1]["sold_at"]  # a tie: same instant, another order id
        product = products[j % len(products)]
        quantity = 1 + j % 4
        sales.append(
            {
                "partner_order_id": f"{prefix}-{j:06d}",
                "partner_name": PARTNERS[prefix],
                "sku": product["sku"],
                "quantity": quantity,
                "gross_amount": product["price"] * quantity,
                "currency": product["currency"],
                "sold_at": sold_at,
            }
        )
    last_of_january = datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
    first_of_february = datetime(2025, 2, 1, tzinfo=UTC)
    for n, sold_at in enumerate((last_of_january, first_of_february, first_of_february)):
        sales[n]["sold_at"] = sold_at
    return sales


def write_storefront(settings: ConnectionSettings, data: StorefrontData) -> None:
    """Create the storefront tables from schema.sql and insert the fixture rows."""
    with psycopg2.connect(settings.ops_url) as conn, conn.cursor() as cur:
        cur.execute(SCHEMA_SQL.read_text())
        psycopg2.extras.execute_values(
            cur,
            "insert into storefront.products (product_id, sku, title, brand, category, price,"
            " currency, stock, is_deleted, created_at, updated_at) values %s",
            [
                (
                    p["id"],
                    p["sku"],
                    p["title"],
                    p["brand"],
                    p["category"],
                    p["price"],
                    p["currency"],
                    p["stock"],
                    p["is_deleted"],
                    p["created_at"],
                    p["updated_at"],
                )
                for p in data.products
            ],
        )
        psycopg2.extras.execute_values(
            cur,
            "insert into storefront.product_tags (product_id, tag) values %s",
            [(p["id"], tag) for p in data.products for tag in p["tags"]],
        )
        psycopg2.extras.execute_values(
            cur,
            "insert into storefront.product_images (product_id, position, url, width, height)"
            " values %s",
            [
                (p["id"], n, image["url"], image["width"], image["height"])
                for p in data.products
                for n, image in enumerate(p["images"])
            ],
        )
        psycopg2.extras.execute_values(
            cur,
            "insert into storefront.product_reviews (review_id, product_id, rating, comment,"
            " reviewer_name, reviewer_email, reviewed_at) values %s",
            [
                (
                    r["id"],
                    p["id"],
                    r["rating"],
                    r["comment"],
                    r["reviewer_name"],
                    r["reviewer_email"],
                    r["date"],
                )
                for p in data.products
                for r in p["reviews"]
            ],
        )
        psycopg2.extras.execute_values(
            cur,
            "insert into storefront.marketplace_sales (partner_order_id, partner_name, sku,"
            " quantity, gross_amount, currency, sold_at, updated_at) values %s",
            [
                (
                    s["partner_order_id"],
                    s["partner_name"],
                    s["sku"],
                    s["quantity"],
                    s["gross_amount"],
                    s["currency"],
                    s["sold_at"],
                    s["sold_at"],
                )
                for s in data.sales
            ],
        )
    conn.close()


@pytest.fixture(scope="module")
def storefront(warehouse: ConnectionSettings) -> Iterator[StorefrontData]:
    """A throwaway ops database holding only the hand-made storefront rows."""
    settings = warehouse.with_databases(warehouse.database, f"{warehouse.ops_database}_api")
    create_database(settings, settings.ops_database)
    products = build_products()
    data = StorefrontData(settings=settings, products=products, sales=build_sales(products))
    write_storefront(settings, data)
    yield data
    drop_database(settings, settings.ops_database)


ServeApi = Callable[..., AbstractContextManager[httpx.Client]]


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def client(serve: ServeApi) -> Iterator[httpx.Client]:
    """A client of an API with every fault off and no practical rate limit."""
    with serve() as api_client:
        yield api_client


def fetch_product_pages(client: httpx.Client, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of /v1/products (skip += limit until skip >= total), bounded."""
    pages = []
    skip = 0
    for _ in range(MAX_PAGES):
        response = client.get("/v1/products", params={"limit": limit, "skip": skip, **params})
        assert response.status_code == 200, response.text
        pages.append(response.json())
        skip += limit
        if skip >= pages[-1]["total"]:
            return pages
    raise AssertionError(f"products did not end within {MAX_PAGES} pages")


def fetch_sale_pages(client: httpx.Client, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of /v1/sales, following next_cursor until it is null, bounded."""
    pages = []
    cursor = None
    for _ in range(MAX_PAGES):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/v1/sales", params=query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError(f"sales did not end within {MAX_PAGES} pages")


def malformations(record: dict[str, Any], fields: RecordFields) -> list[str]:
    """The ways a record breaks the contract: missing id, bad/negative amount, bad time."""
    found = []
    if fields.id not in record:
        found.append("missing_id")
    amount = record[fields.amount]
    if isinstance(amount, str):
        try:
            float(amount)
        except ValueError:
            found.append("amount_not_a_number")
    elif amount < 0:
        found.append("negative_amount")
    try:
        datetime.fromisoformat(record[fields.timestamp])
    except ValueError:
        found.append("unparseable_timestamp")
    return found


# --------------------------------------------------------------------------- unit tests


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


# --------------------------------------------------------------------------- over HTTP


@pytest.mark.integration
def test_health_needs_no_key(client: httpx.Client) -> None:
    response = httpx.get(client.base_url.join("/health"), timeout=5)

    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.integration
@pytest.mark.parametrize("path", ["/v1/products", "/v1/sales"])
@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong-key"}, {"Authorization": "Basic abc"}]
)
def test_v1_refuses_a_missing_or_wrong_key(
    client: httpx.Client, path: str, headers: dict[str, str]
) -> None:
    response = httpx.get(client.base_url.join(path), headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized" and response.json()["detail"]


@pytest.mark.integration
def test_a_product_has_the_contract_shape(client: httpx.Client, storefront: StorefrontData) -> None:
    products = {p["id"]: p for p in fetch_product_pages(client, 500)[0]["products"]}
    expected = next(p for p in storefront.products if p["tags"] and p["reviews"] and p["images"])
    product = products[expected["id"]]

    assert set(product) == {
        "id",
        "sku",
        "title",
        "brand",
        "category",
        "price",
        "currency",
        "stock",
        "is_deleted",
        "created_at",
        "updated_at",
        "tags",
        "images",
        "reviews",
    }
    assert product["sku"] == expected["sku"] and product["price"] == float(expected["price"])
    assert product["currency"] == expected["currency"] and product["stock"] == expected["stock"]
    assert product["updated_at"].endswith("Z")
    assert datetime.fromisoformat(product["updated_at"]) == expected["updated_at"]
    assert product["tags"] == expected["tags"]
    assert product["images"] == expected["images"]
    assert [r["id"] for r in product["reviews"]] == [r["id"] for r in expected["reviews"]]
    assert set(product["reviews"][0]) == {
        "id",
        "rating",
        "comment",
        "reviewer_name",
        "reviewer_email",
        "date",
    }
    deleted = [p["id"] for p in storefront.products if p["is_deleted"]]
    assert deleted and all(products[i]["is_deleted"] is True for i in deleted)


@pytest.mark.integration
@pytest.mark.parametrize("limit", [7, 64, 100, 249, 250, 500])
def test_product_pages_return_every_product_once_in_order(
    client: httpx.Client, storefront: StorefrontData, limit: int
) -> None:
    pages = fetch_product_pages(client, limit)

    ids = [p["id"] for page in pages for p in page["products"]]
    assert ids == storefront.product_ids_in_order()
    assert {page["total"] for page in pages} == {PRODUCT_COUNT}
    assert all(len(page["products"]) <= limit and page["limit"] == limit for page in pages)
    assert [page["skip"] for page in pages] == [n * limit for n in range(len(pages))]


@pytest.mark.integration
def test_a_skip_past_the_end_gives_an_empty_page(client: httpx.Client) -> None:
    body = client.get("/v1/products", params={"skip": 10_000}).json()

    assert body["products"] == [] and body["total"] == PRODUCT_COUNT


@pytest.mark.integration
@pytest.mark.parametrize("offset", ["Z", "+00:00", "+02:00"])
def test_updated_since_keeps_strictly_later_products(
    client: httpx.Client, storefront: StorefrontData, offset: str
) -> None:
    counts = Counter(p["updated_at"] for p in storefront.products)
    since = sorted(t for t, n in counts.items() if n > 1)[len(counts) // 2]
    local = since.astimezone(datetime.fromisoformat(f"2025-01-01T00:00:00{offset}").tzinfo)
    text = local.isoformat().replace("+00:00", offset) if offset == "Z" else local.isoformat()

    pages = fetch_product_pages(client, 40, updated_since=text)

    ids = [p["id"] for page in pages for p in page["products"]]
    assert ids == storefront.product_ids_in_order(updated_since=since)
    assert pages[0]["total"] == len(ids) < PRODUCT_COUNT
    assert all(datetime.fromisoformat(p["updated_at"]) > since for p in pages[0]["products"])


@pytest.mark.integration
@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 501}, {"skip": -1}, {"updated_since": "yesterday"}],
)
def test_bad_product_parameters_get_422(client: httpx.Client, params: dict[str, Any]) -> None:
    response = client.get("/v1/products", params=params)

    assert response.status_code == 422 and response.json()["error"] == "invalid_request"


@pytest.mark.integration
@pytest.mark.parametrize("limit", [1, 13, 100, 500])
def test_sale_pages_follow_the_cursor_to_every_sale(
    client: httpx.Client, storefront: StorefrontData, limit: int
) -> None:
    window = {"start_date": "2025-01-01", "end_date": "2025-03-31"}
    pages = fetch_sale_pages(client, limit, **window)

    ids = [s["partner_order_id"] for page in pages for s in page["sales"]]
    assert ids == storefront.sale_ids_in_order(date(2025, 1, 1), date(2025, 3, 31))
    assert len(ids) == SALE_COUNT
    assert all(page["next_cursor"] for page in pages[:-1]) and pages[-1]["next_cursor"] is None
    assert all(len(page["sales"]) == limit for page in pages[:-1])
    assert {page["total"] for page in pages} == {SALE_COUNT}


@pytest.mark.integration
def test_sale_windows_are_inclusive_days_on_sold_at(
    client: httpx.Client, storefront: StorefrontData
) -> None:
    january = fetch_sale_pages(client, 50, start_date="2025-01-31", end_date="2025-01-31")
    february_first = fetch_sale_pages(client, 50, start_date="2025-02-01", end_date="2025-02-01")
    sale = next(
        s for page in january for s in page["sales"] if s["partner_order_id"] == "AMZ-000000"
    )

    assert [s["partner_order_id"] for p in january for s in p["sales"]] == (
        storefront.sale_ids_in_order(date(2025, 1, 31), date(2025, 1, 31))
    )
    assert [s["partner_order_id"] for p in february_first for s in p["sales"]] == (
        storefront.sale_ids_in_order(date(2025, 2, 1), date(2025, 2, 1))
    )
    assert {"EBY-000001", "ETS-000002"} <= {
        s["partner_order_id"] for p in february_first for s in p["sales"]
    }
    assert set(sale) == {
        "partner_order_id",
        "partner_name",
        "sku",
        "quantity",
        "gross_amount",
        "currency",
        "sold_at",
    }
    assert sale["sold_at"] == "2025-01-31T23:59:59.999999Z"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"cursor": "not-a-cursor"}, "invalid_cursor"),
        ({"start_date": "2025-02-01", "end_date": "2025-01-01"}, "invalid_request"),
    ],
)
def test_bad_sales_parameters_get_400(
    client: httpx.Client, params: dict[str, str], error: str
) -> None:
    response = client.get("/v1/sales", params=params)

    assert response.status_code == 400 and response.json()["error"] == error


@pytest.mark.integration
def test_hammering_gets_429_with_retry_after(serve: ServeApi) -> None:
    with serve(rate_limit_per_second=5) as api:
        statuses = []
        for _ in range(40):
            response = api.get("/v1/sales", params={"limit": 1})
            statuses.append(response.status_code)
            if response.status_code == 429:
                break
        assert statuses[-1] == 429 and set(statuses[:-1]) == {200}
        assert response.json()["error"] == "rate_limited"
        retry_after = int(response.headers["Retry-After"])
        assert retry_after >= 1

        time.sleep(retry_after + 0.05)
        assert api.get("/v1/sales", params={"limit": 1}).status_code == 200


@pytest.mark.integration
def test_error_fault_answers_500_and_503_at_roughly_the_rate(serve: ServeApi) -> None:
    def statuses() -> list[int]:
        with serve(error_rate=0.3, seed=11) as api:
            return [api.get("/v1/sales", params={"limit": 1}).status_code for _ in range(200)]

    first = statuses()
    failures = [s for s in first if s != 200]

    assert 0.2 <= len(failures) / len(first) <= 0.4
    assert set(failures) == {500, 503}
    assert statuses() == first  # the same seed fails the same requests


@pytest.mark.integration
def test_error_fault_bodies_are_json(serve: ServeApi) -> None:
    with serve(error_rate=1.0) as api:
        response = api.get("/v1/products")

    assert response.status_code in {500, 503}
    assert response.json()["error"] in {"internal_error", "service_unavailable"}


@pytest.mark.integration
def test_slow_fault_outlasts_a_short_client_timeout(serve: ServeApi) -> None:
    with serve(slow_rate=1.0, slow_seconds=1.5, timeout=0.5) as api:
        with pytest.raises(httpx.ReadTimeout):
            api.get("/v1/products", params={"limit": 1})
        started = time.monotonic()
        response = api.get("/v1/products", params={"limit": 1}, timeout=5)
        assert response.status_code == 200
        assert time.monotonic() - started >= 1.5


@pytest.mark.integration
def test_without_the_slow_fault_answers_are_quick(client: httpx.Client) -> None:
    response = client.get("/v1/products", params={"limit": 1}, timeout=0.5)

    assert response.status_code == 200


@pytest.mark.integration
def test_malformed_fault_breaks_records_in_the_four_ways(serve: ServeApi) -> None:
    with serve(malformed_rate=1.0) as api:
        products = [p for page in fetch_product_pages(api, 100) for p in page["products"]]
        sales = [s for page in fetch_sale_pages(api, 100) for s in page["sales"]]

    product_kinds = [malformations(p, PRODUCT_ID_FIELDS) for p in products]
    sale_kinds = [malformations(s, SALE_ID_FIELDS) for s in sales]
    assert all(len(kinds) == 1 for kinds in product_kinds + sale_kinds)
    every_kind = {"missing_id", "amount_not_a_number", "negative_amount", "unparseable_timestamp"}
    assert {k[0] for k in product_kinds} == every_kind
    assert {k[0] for k in sale_kinds} == every_kind
    assert len(products) == PRODUCT_COUNT and len(sales) == SALE_COUNT


@pytest.mark.integration
def test_malformed_fault_hits_roughly_the_rate(serve: ServeApi) -> None:
    with serve(malformed_rate=0.2, seed=3) as api:
        products = [p for page in fetch_product_pages(api, 250) for p in page["products"]]

    broken = [p for p in products if malformations(p, PRODUCT_ID_FIELDS)]
    assert 0.1 <= len(broken) / len(products) <= 0.3


@pytest.mark.integration
def test_clean_records_by_default(client: httpx.Client) -> None:
    products = [p for page in fetch_product_pages(client, 250) for p in page["products"]]
    sales = [s for page in fetch_sale_pages(client, 500) for s in page["sales"]]

    assert not any(malformations(p, PRODUCT_ID_FIELDS) for p in products)
    assert not any(malformations(s, SALE_ID_FIELDS) for s in sales)
    assert not any("sustainability_score" in p for p in products)


@pytest.mark.integration
def test_extra_field_fault_adds_a_stable_sustainability_score(serve: ServeApi) -> None:
    with serve(extra_field=True) as api:
        first = [p for page in fetch_product_pages(api, 100) for p in page["products"]]
        again = [p for page in fetch_product_pages(api, 250) for p in page["products"]]

    scores = {p["id"]: p["sustainability_score"] for p in first}
    assert len(scores) == PRODUCT_COUNT
    assert all(isinstance(s, int) and 0 <= s <= 100 for s in scores.values())
    assert len(set(scores.values())) > 10
    assert {p["id"]: p["sustainability_score"] for p in again} == scores


@pytest.mark.integration
def test_duplicates_fault_repeats_a_record_across_product_pages(
    serve: ServeApi, storefront: StorefrontData
) -> None:
    with serve(duplicates=True) as api:
        pages = fetch_product_pages(api, 60)

    for previous, page in itertools.pairwise(pages):
        assert page["products"][0] == previous["products"][-1]
    ids = [p["id"] for page in pages for p in page["products"]]
    assert len(ids) == PRODUCT_COUNT + len(pages) - 1
    assert list(dict.fromkeys(ids)) == storefront.product_ids_in_order()
    assert {page["total"] for page in pages} == {PRODUCT_COUNT}


@pytest.mark.integration
def test_duplicates_fault_repeats_a_record_across_sale_pages(
    serve: ServeApi, storefront: StorefrontData
) -> None:
    with serve(duplicates=True) as api:
        pages = fetch_sale_pages(api, 70)

    assert len(pages) > 1
    for previous, page in itertools.pairwise(pages):
        assert page["sales"][0] == previous["sales"][-1]
    ids = [s["partner_order_id"] for page in pages for s in page["sales"]]
    assert len(ids) == SALE_COUNT + len(pages) - 1
    assert list(dict.fromkeys(ids)) == storefront.sale_ids_in_order()


@pytest.mark.integration
def test_a_product_and_a_sale_can_be_asked_for_by_key(
    client: httpx.Client, storefront: StorefrontData
) -> None:
    listed = fetch_product_pages(client, 250)[0]["products"]
    sales = fetch_sale_pages(client, 500)[0]["sales"]

    assert client.get(f"/v1/products/{listed[5]['id']}").json() == listed[5]
    assert client.get(f"/v1/sales/{sales[7]['partner_order_id']}").json() == sales[7]
    by_sku = client.get("/v1/products", params={"sku": listed[9]["sku"]}).json()
    assert by_sku["products"] == [listed[9]] and by_sku["total"] == 1
    for path in ("/v1/products/999999", "/v1/sales/NOPE-1"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def list_pages_raw(api: httpx.Client, path: str, limit: int) -> list[dict[str, Any]]:
    """The first ``MAX_PAGES`` answers of a list, without following anything (page 0 again)."""
    return [api.get(path, params={"limit": limit}).json() for _ in range(60)]


@pytest.mark.integration
def test_missing_data_fault_answers_200_without_the_data_key(serve: ServeApi) -> None:
    with serve(missing_data_rate=0.3, seed=4) as api:
        products = list_pages_raw(api, "/v1/products", 10)
        sales = list_pages_raw(api, "/v1/sales", 10)

    for pages, key, pointer in ((products, "products", "total"), (sales, "sales", "next_cursor")):
        bent = [page for page in pages if key not in page]
        assert 0.1 <= len(bent) / len(pages) <= 0.55
        assert all(pointer in page for page in bent)  # the page still says there is more
        assert all(len(page[key]) == 10 for page in pages if key in page)


@pytest.mark.integration
def test_empty_page_fault_empties_a_page_that_still_points_further(serve: ServeApi) -> None:
    with serve(empty_page_rate=0.3, seed=5) as api:
        products = list_pages_raw(api, "/v1/products", 10)
        sales = list_pages_raw(api, "/v1/sales", 10)

    for pages, key in ((products, "products"), (sales, "sales")):
        sizes = Counter(len(page[key]) for page in pages)
        assert set(sizes) == {0, 10} and 0.1 <= sizes[0] / len(pages) <= 0.55
    assert {page["total"] for page in products} == {PRODUCT_COUNT}
    assert all(page["next_cursor"] and page["total"] == SALE_COUNT for page in sales)


@pytest.mark.integration
def test_lost_record_fault_drops_one_record_so_the_total_does_not_add_up(
    serve: ServeApi, storefront: StorefrontData
) -> None:
    with serve(lost_record_rate=0.2, seed=6) as api:
        products = [p["id"] for page in fetch_product_pages(api, 10) for p in page["products"]]
        sales = [s["partner_order_id"] for page in fetch_sale_pages(api, 10) for s in page["sales"]]

    for received, expected in (
        (products, storefront.product_ids_in_order()),
        (sales, storefront.sale_ids_in_order()),
    ):
        assert len(received) == len(set(received)) < len(expected)
        assert set(received) < set(expected)
        assert [key for key in expected if key in set(received)] == received


@pytest.mark.integration
def test_a_late_sale_lands_before_the_newest_sale(storefront: StorefrontData) -> None:
    newest = max(s["sold_at"] for s in storefront.sales)

    sale_id, sold_at = add_late_sale(storefront.settings, late_by=timedelta(days=2))
    try:
        assert sold_at == newest - timedelta(days=2) and sale_id.endswith("-LATE0001")
        with psycopg2.connect(storefront.settings.ops_url) as conn, conn.cursor() as cur:
            cur.execute(
                "select sku, updated_at from storefront.marketplace_sales"
                " where partner_order_id = %s",
                (sale_id,),
            )
            assert cur.fetchall() == [
                (
                    max(storefront.sales, key=lambda s: (s["sold_at"], s["partner_order_id"]))[
                        "sku"
                    ],
                    newest,
                )
            ]
        conn.close()
    finally:
        with psycopg2.connect(storefront.settings.ops_url) as conn, conn.cursor() as cur:
            cur.execute(
                "delete from storefront.marketplace_sales where partner_order_id = %s", (sale_id,)
            )
        conn.close()


@pytest.mark.integration
def test_running_api_stops_on_exit(storefront: StorefrontData) -> None:
    config = ApiConfig(connection=storefront.settings)
    with running_api(config) as handle:
        assert isinstance(handle, ApiHandle) and handle.api_key == config.api_key
        assert handle.base_url == f"http://127.0.0.1:{handle.port}"
        assert httpx.get(f"{handle.base_url}/health", timeout=5).status_code == 200

    with pytest.raises(httpx.TransportError):
        httpx.get(f"{handle.base_url}/health", timeout=1)


@pytest.mark.integration
def test_seeded_randomness_is_local(serve: ServeApi) -> None:
    """The server's draws come from its own generator: the global one is left alone."""
    random.seed(5)
    expected = random.random()
    random.seed(5)
    with serve(error_rate=0.5, malformed_rate=0.5) as api:
        api.get("/v1/products", params={"limit": 5})
    assert random.random() == expected
