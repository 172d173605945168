"""Constants of the landing-zone files source."""

from __future__ import annotations

import pyarrow as pa

DATASET_NAME = "raw_files"

EVENTS_GLOB = "clickstream/*"
SPEND_GLOB = "marketing_spend/*"
EVENT_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson", ".parquet"})
SPEND_SUFFIXES = frozenset({".csv", ".parquet"})

JSON_BLOCK_SIZE = 16 << 20
"""Bytes per block of the streaming JSON reader: memory stays flat whatever the file size."""
PARQUET_BATCH_ROWS = 50_000

EVENT_READ_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string()),
        pa.field("timestamp", pa.string()),
        pa.field("event_name", pa.string()),
        pa.field(
            "user_identifiers",
            pa.struct([pa.field("platform", pa.string()), pa.field("id", pa.string())]),
        ),
        pa.field(
            "product_information",
            pa.struct([pa.field("name", pa.string()), pa.field("SKU", pa.string())]),
        ),
        pa.field("order_id", pa.int64()),
    ]
)
"""The documented event shape, as read from JSON lines (unknown fields are inferred)."""

EVENT_COLUMN_TYPES: dict[str, pa.DataType] = {
    "event_id": pa.string(),
    "timestamp": pa.timestamp("us", tz="UTC"),
    "event_name": pa.string(),
    "user_identifiers__platform": pa.string(),
    "user_identifiers__id": pa.string(),
    "product_information__name": pa.string(),
    "product_information__sku": pa.string(),
    "order_id": pa.int64(),
    "source_file": pa.string(),
}
"""The flattened ``raw_files.events`` columns, in order, with their Arrow types."""


SPEND_REQUIRED_COLUMNS = (
    "date",
    "channel",
    "campaign",
    "spend",
    "currency",
    "impressions",
    "clicks",
)
SPEND_KEY = ("date", "channel", "campaign")
