"""The world's tables: their column lists and how frames (epoch seconds inside) are written.

Every writer goes through ``copy_rows``: timestamp columns become ISO-8601 strings and the
frame is COPYed; ``upsert_rows`` does the same through a temporary table for changed rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ingestion.simulators.world.bulk_io import Cursor, copy_frame
from ingestion.simulators.world.timestamps import with_iso_columns


@dataclass(frozen=True)
class Table:
    """A table's name, its columns in COPY order and which of them are timestamps."""

    name: str
    columns: tuple[str, ...]
    timestamps: tuple[str, ...]
    key: str


PRODUCTS = Table(
    "storefront.products",
    (
        "product_id",
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
    ),
    ("created_at", "updated_at"),
    "product_id",
)
PRODUCT_TAGS = Table("storefront.product_tags", ("product_id", "tag"), (), "product_id")
PRODUCT_IMAGES = Table(
    "storefront.product_images",
    ("product_id", "position", "url", "width", "height"),
    (),
    "product_id",
)
PRODUCT_REVIEWS = Table(
    "storefront.product_reviews",
    (
        "review_id",
        "product_id",
        "rating",
        "comment",
        "reviewer_name",
        "reviewer_email",
        "reviewed_at",
    ),
    ("reviewed_at",),
    "review_id",
)
MARKETPLACE_SALES = Table(
    "storefront.marketplace_sales",
    (
        "partner_order_id",
        "partner_name",
        "sku",
        "quantity",
        "gross_amount",
        "currency",
        "sold_at",
        "updated_at",
    ),
    ("sold_at", "updated_at"),
    "partner_order_id",
)
CUSTOMERS = Table(
    "ops.customers",
    (
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "country_code",
        "city",
        "address",
        "registered_at",
        "created_at",
        "updated_at",
    ),
    ("registered_at", "created_at", "updated_at"),
    "customer_id",
)
ORDERS = Table(
    "ops.orders",
    (
        "order_id",
        "customer_id",
        "ordered_at",
        "status",
        "payment_method",
        "currency",
        "channel",
        "delivery_date",
        "created_at",
        "updated_at",
    ),
    ("ordered_at", "created_at", "updated_at"),
    "order_id",
)
ORDER_ITEMS = Table(
    "ops.order_items",
    (
        "order_item_id",
        "order_id",
        "line_number",
        "product_id",
        "sku",
        "quantity",
        "unit_price",
        "discount",
        "created_at",
        "updated_at",
    ),
    ("created_at", "updated_at"),
    "order_item_id",
)
PAYMENTS = Table(
    "ops.payments",
    (
        "payment_id",
        "order_id",
        "method",
        "status",
        "amount",
        "currency",
        "paid_at",
        "created_at",
        "updated_at",
    ),
    ("paid_at", "created_at", "updated_at"),
    "payment_id",
)
DELIVERIES = Table(
    "ops.deliveries",
    (
        "delivery_id",
        "order_id",
        "carrier",
        "status",
        "shipped_at",
        "delivered_at",
        "created_at",
        "updated_at",
    ),
    ("shipped_at", "delivered_at", "created_at", "updated_at"),
    "delivery_id",
)


def copy_rows(cur: Cursor, table: Table, frame: pd.DataFrame) -> int:
    """Append the rows of ``frame`` (all of ``table``'s columns) to the table."""
    rows = with_iso_columns(frame[list(table.columns)], table.timestamps)
    return copy_frame(cur, table.name, rows)


def update_rows(
    cur: Cursor,
    table: Table,
    frame: pd.DataFrame,
    columns: tuple[str, ...],
    key: str | None = None,
) -> int:
    """Set ``columns`` on the rows of ``table`` matched on ``key`` (default: the primary key)
    by the rows of ``frame``, which holds the key and ``columns``. Goes through a temporary
    table loaded with COPY. Returns the number of rows updated."""
    if frame.empty:
        return 0
    key = key or table.key
    staging = f"sim_changes_{table.name.replace('.', '_')}"
    cur.execute(
        f"create temporary table {staging} on commit drop as "
        f"select {key}, {', '.join(columns)} from {table.name} with no data"
    )
    timestamps = tuple(column for column in columns if column in table.timestamps)
    copy_frame(cur, staging, with_iso_columns(frame[[key, *columns]], timestamps))
    assignments = ", ".join(f"{column} = s.{column}" for column in columns)
    cur.execute(
        f"update {table.name} as t set {assignments} from {staging} as s where t.{key} = s.{key}"
    )
    count = cur.rowcount
    cur.execute(f"drop table {staging}")
    return count
