"""The storefront API tests' own catalogue, written to a throwaway ops database, and the
readers that page through the API over HTTP.

A small hand-made catalogue: 250 products with tags, images and reviews, many sharing an
``updated_at``; 320 marketplace sales with ties, microseconds and sales on both sides of a
midnight.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg2
import psycopg2.extras

import ingestion.simulators
from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api.faults import RecordFields

SCHEMA_SQL = Path(ingestion.simulators.__file__).resolve().parent / "world" / "schema.sql"

PRODUCT_COUNT = 250
SALE_COUNT = 320
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD")
TAG_WORDS = ("outdoor", "summer", "gift", "eco", "sale", "new")
PARTNERS = {"AMZ": "Amazon", "EBY": "eBay", "ETS": "Etsy"}
MAX_PAGES = 400  # every pagination loop of these tests stops after this many requests
HIGH_RATE_LIMIT = 100_000

PRODUCT_ID_FIELDS = RecordFields(id="id", amount="price", timestamp="updated_at")
SALE_ID_FIELDS = RecordFields(id="partner_order_id", amount="gross_amount", timestamp="sold_at")


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


ServeApi = Callable[..., AbstractContextManager[httpx.Client]]
"""Starts an API over the catalogue with the given faults; yields an authenticated client."""


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


def list_pages_raw(api: httpx.Client, path: str, limit: int) -> list[dict[str, Any]]:
    """Sixty answers to the same first page of a list (nothing followed): a fault's rate shows."""
    return [api.get(path, params={"limit": limit}).json() for _ in range(60)]
