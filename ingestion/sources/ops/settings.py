"""Constants of the operations-database source."""

from __future__ import annotations

DATASET_NAME = "raw_ops"
SOURCE_SCHEMA = "ops"

TABLE_PRIMARY_KEYS: dict[str, str] = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
    "deliveries": "delivery_id",
}
"""The tables read, in load order, with their single-column primary keys."""

CURSOR_COLUMN = "updated_at"
CHUNK_SIZE = 50_000
"""Rows per Arrow batch read from the source: memory stays flat whatever the table size."""
KEY_BATCH_SIZE = 100_000
"""Keys fetched per round trip when reconciling source and warehouse keys."""

DELETED_FLAG_COLUMN = "_deleted_in_source"
"""dlt ``hard_delete`` column: a tombstone row carrying it deletes its key in the warehouse."""
