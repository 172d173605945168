"""The JSON shapes of the contract (docs/source-systems.md), built from store rows."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ingestion.simulators.storefront_api.store import Row

Record = dict[str, Any]


def format_timestamp(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix (microseconds only when there are some)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _money(value: Decimal) -> float:
    return float(value)


def product_record(row: Row) -> Record:
    """One product as the API shows it, children nested."""
    return {
        "id": row["product_id"],
        "sku": row["sku"],
        "title": row["title"],
        "brand": row["brand"],
        "category": row["category"],
        "price": _money(row["price"]),
        "currency": row["currency"].strip(),
        "stock": row["stock"],
        "is_deleted": row["is_deleted"],
        "created_at": format_timestamp(row["created_at"]),
        "updated_at": format_timestamp(row["updated_at"]),
        "tags": list(row["tags"]),
        "images": [
            {"url": image["url"], "width": image["width"], "height": image["height"]}
            for image in row["images"]
        ],
        "reviews": [
            {
                "id": review["review_id"],
                "rating": review["rating"],
                "comment": review["comment"],
                "reviewer_name": review["reviewer_name"],
                "reviewer_email": review["reviewer_email"],
                "date": format_timestamp(review["reviewed_at"]),
            }
            for review in row["reviews"]
        ],
    }


def sale_record(row: Row) -> Record:
    """One marketplace sale as the API shows it."""
    return {
        "partner_order_id": row["partner_order_id"],
        "partner_name": row["partner_name"],
        "sku": row["sku"],
        "quantity": row["quantity"],
        "gross_amount": _money(row["gross_amount"]),
        "currency": row["currency"].strip(),
        "sold_at": format_timestamp(row["sold_at"]),
    }
