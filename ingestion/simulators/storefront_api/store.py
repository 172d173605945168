"""Reads of the ``storefront`` schema: pages of products (with their children) and sales.

Rows come back as plain Python values (datetimes, Decimals); turning them into the JSON
shapes of the contract is ``records.py``'s job, bending them is ``faults.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingestion.database.connection import one_row
from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api.connection_pool import ReadOnlyPool
from ingestion.simulators.storefront_api.cursor import SalesCursor

Row = dict[str, Any]

PRODUCTS_FILTER = """
    where (%(since)s::timestamptz is null or updated_at > %(since)s::timestamptz)
      and (%(product_id)s::bigint is null or product_id = %(product_id)s::bigint)
      and (%(sku)s::text is null or sku = %(sku)s::text)
"""

# The offset is walked in the ``(updated_at, product_id)`` index alone (an index-only scan)
# and only the page's rows are read from the table: a page deep in the catalogue no longer
# reads every product before it.
PRODUCTS_SQL = f"""
    select product.product_id, product.sku, product.title, product.brand, product.category,
           product.price, product.currency, product.stock, product.is_deleted,
           product.created_at, product.updated_at
    from (
        select product_id, updated_at
        from storefront.products
        {PRODUCTS_FILTER}
        order by updated_at, product_id
        offset %(offset)s
        limit %(limit)s
    ) as page
    inner join storefront.products as product on product.product_id = page.product_id
    order by page.updated_at, page.product_id
"""

PRODUCTS_COUNT_SQL = f"""
    select count(*) as total
    from storefront.products
    {PRODUCTS_FILTER}
"""

TAGS_SQL = """
    select product_id, tag
    from storefront.product_tags
    where product_id = any(%(ids)s)
    order by product_id, tag
"""

IMAGES_SQL = """
    select product_id, url, width, height
    from storefront.product_images
    where product_id = any(%(ids)s)
    order by product_id, position
"""

REVIEWS_SQL = """
    select product_id, review_id, rating, comment, reviewer_name, reviewer_email, reviewed_at
    from storefront.product_reviews
    where product_id = any(%(ids)s)
    order by product_id, reviewed_at, review_id
"""

CHILD_QUERIES = (("tags", TAGS_SQL), ("images", IMAGES_SQL), ("reviews", REVIEWS_SQL))

SALE_COLUMNS = "partner_order_id, partner_name, sku, quantity, gross_amount, currency, sold_at"

# Partner order ids compare byte-wise (collate "C") so the order, and so the cursor, does
# not depend on the database's locale.
SALES_SQL = f"""
    select {SALE_COLUMNS}
    from storefront.marketplace_sales
    where (%(start)s::timestamptz is null or sold_at >= %(start)s::timestamptz)
      and (%(end)s::timestamptz is null or sold_at < %(end)s::timestamptz)
      and (
        %(after_at)s::timestamptz is null
        or sold_at > %(after_at)s::timestamptz
        or (sold_at = %(after_at)s::timestamptz
            and partner_order_id collate "C" {{comparison}} %(after_id)s collate "C")
      )
    order by sold_at, partner_order_id collate "C"
    limit %(limit)s
"""

SALES_COUNT_SQL = """
    select count(*) as total
    from storefront.marketplace_sales
    where (%(start)s::timestamptz is null or sold_at >= %(start)s::timestamptz)
      and (%(end)s::timestamptz is null or sold_at < %(end)s::timestamptz)
"""

SALE_SQL = f"""
    select {SALE_COLUMNS}
    from storefront.marketplace_sales
    where partner_order_id = %(partner_order_id)s
"""


@dataclass(frozen=True)
class ProductPage:
    """Product rows (each with ``tags``, ``images`` and ``reviews`` lists) and the total."""

    rows: list[Row]
    total: int


@dataclass(frozen=True)
class SalesWindow:
    """Sales with ``start <= sold_at < end``; either bound may be open (None)."""

    start: datetime | None
    end: datetime | None


class StorefrontStore:
    """The storefront service's data, read through a small connection pool."""

    def __init__(self, settings: ConnectionSettings, pool_size: int = 4) -> None:
        self.database = settings.ops_database
        self._pool = ReadOnlyPool(settings, settings.ops_database, size=pool_size)

    def close(self) -> None:
        """Release the pooled connections."""
        self._pool.close()

    def product_page(
        self,
        *,
        offset: int,
        limit: int,
        updated_since: datetime | None,
        product_id: int | None = None,
        sku: str | None = None,
    ) -> ProductPage:
        """Products ordered by ``(updated_at, id)``, ``limit`` of them from ``offset``.

        ``product_id`` and ``sku``, when given, keep only the product they name.
        """
        params = {
            "since": updated_since,
            "product_id": product_id,
            "sku": sku,
            "offset": offset,
            "limit": limit,
        }
        with self._pool.transaction() as cur:
            cur.execute(PRODUCTS_COUNT_SQL, params)
            total = int(one_row(cur)["total"])
            cur.execute(PRODUCTS_SQL, params)
            rows = [dict(row) for row in cur.fetchall()]
            ids = [row["product_id"] for row in rows]
            children: dict[str, list[Row]] = {}
            for name, query in CHILD_QUERIES:
                cur.execute(query, {"ids": ids})
                children[name] = [dict(row) for row in cur.fetchall()]
        by_id = {row["product_id"]: row for row in rows}
        for row in rows:
            row.update(tags=[], images=[], reviews=[])
        for name, child_rows in children.items():
            for child in child_rows:
                parent_id = child.pop("product_id")
                by_id[parent_id][name].append(child["tag"] if name == "tags" else child)
        return ProductPage(rows=rows, total=total)

    def sales(
        self,
        *,
        window: SalesWindow,
        after: SalesCursor | None,
        limit: int,
        include_after: bool = False,
    ) -> list[Row]:
        """Sales in ``window`` ordered by ``(sold_at, partner_order_id)``, after a cursor.

        With ``include_after`` the sale the cursor points at is returned too (first).
        """
        query = SALES_SQL.format(comparison=">=" if include_after else ">")
        params = {
            "start": window.start,
            "end": window.end,
            "after_at": after.sold_at if after else None,
            "after_id": after.partner_order_id if after else None,
            "limit": limit,
        }
        with self._pool.transaction() as cur:
            cur.execute(query, params)
            return [dict(row) for row in cur.fetchall()]

    def sales_total(self, *, window: SalesWindow) -> int:
        """How many sales lie in ``window`` (over all pages)."""
        with self._pool.transaction() as cur:
            cur.execute(SALES_COUNT_SQL, {"start": window.start, "end": window.end})
            return int(one_row(cur)["total"])

    def sale(self, partner_order_id: str) -> Row | None:
        """The sale with this partner order id, or None."""
        with self._pool.transaction() as cur:
            cur.execute(SALE_SQL, {"partner_order_id": partner_order_id})
            row = cur.fetchone()
        return dict(row) if row is not None else None
