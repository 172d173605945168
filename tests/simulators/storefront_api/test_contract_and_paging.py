"""The storefront API over real HTTP: health, auth, the contract's shapes, pagination by
skip and by cursor, bad parameters, lookups by key, the server's lifetime."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from typing import Any

import httpx
import pytest

from ingestion.simulators.storefront_api import ApiConfig, ApiHandle, running_api
from ingestion.sources.storefront.products_reconciliation import CONTRACT_FIELDS
from ingestion.sources.storefront.sales_reconciliation import SALE_FIELDS
from tests.simulators.storefront_api.catalogue import (
    PRODUCT_COUNT,
    SALE_COUNT,
    StorefrontData,
    fetch_product_pages,
    fetch_sale_pages,
)


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

    assert set(product) == set(CONTRACT_FIELDS)  # what the source reads, no more, no less
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
    assert set(sale) == {"partner_order_id", *SALE_FIELDS}  # the key and what the source compares
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


@pytest.mark.integration
def test_running_api_stops_on_exit(storefront: StorefrontData) -> None:
    config = ApiConfig(connection=storefront.settings)
    with running_api(config) as handle:
        assert isinstance(handle, ApiHandle) and handle.api_key == config.api_key
        assert handle.base_url == f"http://127.0.0.1:{handle.port}"
        assert httpx.get(f"{handle.base_url}/health", timeout=5).status_code == 200

    with pytest.raises(httpx.TransportError):
        httpx.get(f"{handle.base_url}/health", timeout=1)
