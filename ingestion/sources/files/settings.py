"""Constants of the landing-zone files source."""

from __future__ import annotations

import pyarrow as pa

DATASET_NAME = "raw_files"

EVENTS_GLOB = "clickstream/*"
SPEND_GLOB = "marketing_spend/*"
EVENT_SUFFIXES = frozenset({".jsonl", ".json", ".ndjson", ".parquet"})
SPEND_SUFFIXES = frozenset({".csv", ".parquet"})

JSON_BLOCK_SIZE = 1 << 20
"""Bytes per block of the streaming JSON reader: memory stays flat whatever the file size
(the block size that parsed fastest; larger blocks only cost memory: docs/benchmarks.md)."""
READ_AHEAD_BYTES = 64 << 20
"""Events files up to this size are parsed ahead, whole, while the previous one is loaded
(``EventsReadAhead``); larger ones are streamed in blocks."""
EVENT_BATCH_ROWS = 100_000
"""Rows per Arrow table handed to dlt (JSON blocks are gathered, Parquet read in batches)."""
EVENT_ID_HASH_KEYS = ("shopflow-events1", "shopflow-events2")
"""Two 16-byte SipHash keys: together a 128-bit fingerprint of each ``event_id``."""
ARRIVED_BY = "_arrived_by"
ARRIVED_BY_FILE = "file"
ARRIVED_BY_STREAM = "stream"
"""How an event reached ``raw_files.events``: in a landing file, or through the stream."""
DLT_ID_BYTES = 12
"""Random bytes per ``_dlt_id`` of an event row (a multiple of 3: see ``helpers.dlt_ids``)."""

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
    "extra_properties": pa.string(),
    "source_file": pa.string(),
}
"""The flattened ``raw_files.events`` columns, in order, with their Arrow types."""


EVENT_DECLARED_FIELDS = (
    pa.field("event_id", pa.string(), nullable=False),
    pa.field("timestamp", EVENT_COLUMN_TYPES["timestamp"]),
)
"""How two events columns are declared to dlt although the csv load file carries them
otherwise: ``event_id`` is never null (rows without one are rejected) and ``timestamp`` is
written as UTC text for Postgres to parse (``helpers.utc_timestamp_text``)."""


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

# Input bounds: far beyond any real delivery (an event line is a few hundred bytes, a spend
# file a few hundred rows of seven columns), low enough that no parser can be made to crash,
# hang or exhaust memory by one hostile file. Each reject or quarantine reason names its bound.
MAX_LINE_BYTES = JSON_BLOCK_SIZE
"""Longest JSON line or CSV line read (the JSON reader's block size: a longer line could not
be read in one block anyway). A longer line is rejected without being parsed or kept whole."""
MAX_JSON_DEPTH = 16
"""Deepest nesting of objects and arrays in one event (the documented shape has 2)."""
MAX_KEYS_PER_OBJECT = 1000
"""Most keys in one JSON object of an event (the documented shape has 6; new keys land in
``extra_properties``, so this bounds the work and the text of one row, not the columns)."""
MAX_VALUE_CHARS = 64 << 10
"""Longest text value of an event or a spend cell."""
MAX_COLUMNS = 100
"""Most columns of a Parquet or CSV file (events have 9, spend 7)."""
MAX_ROW_GROUP_BYTES = 256 << 20
"""Largest Parquet row group (uncompressed): a row group is read whole."""
EXTRA_PROPERTIES = "extra_properties"
"""The one column that holds every key outside the documented event shape, as a JSON object
(``{"campaign": "x", "user_identifiers": {"locale": "de"}}``): an event never adds a column."""
READING_MARKER = "reading_landing_file.json"
"""The marker naming the landing file being parsed, in the pipeline's working folder: a run
that finds one left by a crashed run quarantines that file instead of reading it again."""
