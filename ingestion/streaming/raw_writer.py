"""One consumer batch into the warehouse, in one transaction: new events into the files
source's raw table, refused messages into its ``rejected_records``, the windows counted.

The raw table is the one the files source loads (``raw_files.events``): an event is the same
event whichever way it came, and ``_arrived_by`` says which (``file`` or ``stream``). An
``event_id`` the table already holds is not inserted again (from a file, an earlier batch, or
a redelivery after a crash). dbt's staging reads new rows by ``_dlt_load_id`` (newer than its
watermark), not through ``_dlt_loads``, so a batch stamps its rows with a load id in dlt's
format (unix seconds as text) taken once the batch holds the lock: batches commit in load-id
order, and no batch commits behind a watermark dbt has already read past.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions
import pyarrow as pa
import pyarrow.csv as pacsv

from ingestion.sources.files.read_ahead import dlt_ids, utc_timestamp_text
from ingestion.sources.files.settings import ARRIVED_BY_STREAM, DATASET_NAME, EVENT_COLUMN_TYPES
from ingestion.sources.validation import (
    BOOKKEEPING_DDL,
    MAX_REASON_CHARS,
    REJECTED_RECORDS_TABLE,
    bounded_text,
    to_payload_text,
)
from ingestion.streaming import windows

Cursor = psycopg2.extensions.cursor

EVENTS = f"{DATASET_NAME}.events"
REJECTED = f"{DATASET_NAME}.{REJECTED_RECORDS_TABLE}"
BATCH_LOCK = 0x5F10_57EA
"""The advisory lock every consumer's batch transaction takes first: batches (and their
window updates) are serialised, so load ids follow commit order and windows never deadlock."""
EVENT_COLUMNS = [*EVENT_COLUMN_TYPES, "_dlt_id"]

DDL = f"""
create schema if not exists {DATASET_NAME};
create table if not exists {EVENTS} (
    event_id varchar not null,
    "timestamp" timestamp(6) with time zone,
    event_name varchar,
    user_identifiers__platform varchar,
    user_identifiers__id varchar,
    product_information__name varchar,
    product_information__sku varchar,
    order_id bigint,
    extra_properties varchar,
    source_file varchar,
    _dlt_id varchar,
    _dlt_load_id varchar not null
);
alter table {EVENTS} add column if not exists _arrived_by varchar;
create index if not exists events__event_id__idx on {EVENTS} (event_id);
create table if not exists {REJECTED} ({BOOKKEEPING_DDL[REJECTED_RECORDS_TABLE]});
"""
"""The raw tables as dlt makes them (so a later files load finds them as its own) plus the
``_arrived_by`` column and the ``event_id`` index the staging model also creates."""


@dataclass(frozen=True)
class Refused:
    """A message the consumer refused: its key (stream sequence and message id, stored as the
    row's ``_dlt_id``, so a redelivered refusal is not stored twice), the reason, the payload."""

    key: str
    reason: str
    payload: Any


@dataclass(frozen=True)
class BatchResult:
    load_id: str
    inserted: int
    already_loaded: int
    counted: int
    late: int
    rejected: int


def prepare(cur: Cursor) -> None:
    """Create what the consumer writes to, if missing (under the batch lock: consumers that
    start together do not race on the DDL)."""
    cur.execute("select pg_advisory_xact_lock(%s)", (BATCH_LOCK,))
    cur.execute(DDL)
    windows.prepare(cur)


def _csv(table: pa.Table) -> io.BytesIO:
    """The validated events as csv for COPY: timestamp as UTC text, a fresh ``_dlt_id``."""
    table = table.set_column(
        table.schema.get_field_index("timestamp"),
        "timestamp",
        utc_timestamp_text(table["timestamp"]),
    ).append_column("_dlt_id", dlt_ids(table.num_rows))
    buffer = io.BytesIO()
    pacsv.write_csv(table.select(EVENT_COLUMNS), buffer)
    buffer.seek(0)
    return buffer


def write_batch(
    cur: Cursor, events: pa.Table, refused: list[Refused], allowed_lateness_seconds: int
) -> BatchResult:
    """Write one batch (the caller commits): see the module doc. ``events`` are validated
    (``validated_events``), ``refused`` go to ``rejected_records`` once per message."""
    cur.execute("select pg_advisory_xact_lock(%s)", (BATCH_LOCK,))
    load_id = f"{time.time():.6f}"
    columns = ", ".join(f'"{name}"' for name in EVENT_COLUMNS)
    cur.execute(
        f"create temp table stream_batch on commit drop as select {columns} from {EVENTS} "
        "where false;"
        "create temp table stream_inserted (event_id varchar, event_name varchar, "
        "platform varchar, event_at timestamptz) on commit drop"
    )
    if events.num_rows:
        cur.copy_expert(
            f"copy stream_batch ({columns}) from stdin with (format csv, header true)",
            _csv(events),
        )
    cur.execute(
        f"""
        with fresh as (
            select distinct on (batch.event_id) batch.*
            from stream_batch as batch
            where not exists (
                select 1 from {EVENTS} as loaded where loaded.event_id = batch.event_id
            )
            order by batch.event_id
        ),
        inserted as (
            insert into {EVENTS} ({columns}, _dlt_load_id, _arrived_by)
            select {columns}, %(load_id)s, %(arrived_by)s from fresh
            returning event_id, event_name, user_identifiers__platform, "timestamp"
        )
        insert into stream_inserted select * from inserted
        """,
        {"load_id": load_id, "arrived_by": ARRIVED_BY_STREAM},
    )
    inserted = cur.rowcount
    counted, late = windows.count_batch(cur, allowed_lateness_seconds)
    rejected = 0
    for refusal in refused:
        cur.execute(
            f"""
            insert into {REJECTED} (
                resource, reason, raw_payload, load_id, rejected_at, _dlt_load_id, _dlt_id
            ) values ('events', %s, %s, %s, now(), %s, %s)
            on conflict (_dlt_id) do nothing
            """,
            (
                bounded_text(refusal.reason, MAX_REASON_CHARS),
                to_payload_text(refusal.payload),
                load_id,
                load_id,
                refusal.key,
            ),
        )
        rejected += cur.rowcount
    return BatchResult(load_id, inserted, events.num_rows - inserted, counted, late, rejected)
