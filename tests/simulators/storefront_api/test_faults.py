"""The storefront API's faults over real HTTP: the rate limit, errors, slowness, malformed,
extra and duplicated records, missing data, empty pages, lost records, late sales; each at
roughly its rate, repeatable with its seed."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter
from datetime import timedelta

import httpx
import psycopg2
import psycopg2.extras
import pytest

from ingestion.simulators.storefront_api.late_sales import add_late_sale
from tests.simulators.storefront_api.catalogue import (
    PRODUCT_COUNT,
    PRODUCT_ID_FIELDS,
    SALE_COUNT,
    SALE_ID_FIELDS,
    ServeApi,
    StorefrontData,
    fetch_product_pages,
    fetch_sale_pages,
    list_pages_raw,
    malformations,
)


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
def test_seeded_randomness_is_local(serve: ServeApi) -> None:
    """The server's draws come from its own generator: the global one is left alone."""
    random.seed(5)
    expected = random.random()
    random.seed(5)
    with serve(error_rate=0.5, malformed_rate=0.5) as api:
        api.get("/v1/products", params={"limit": 5})
    assert random.random() == expected
