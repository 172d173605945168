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

CLOCK_QUERY = "select now()"
"""SQL answering the source's own "now": the cursor never moves past it (see ``cursor``)."""
CURSOR_OVERLAP_SECONDS = 300.0
"""Each run reads again the changes stamped this long before the cursor, for transactions
that commit a little after others stamped later."""
RECONCILE_EVERY_RUNS = 1
"""Range reconciliation every this many runs per table (0: never); see ``reconcile``."""
RECONCILE_BUCKET_SIZE = 10_000
"""Keys per range the reconciliation counts and hashes as one."""
