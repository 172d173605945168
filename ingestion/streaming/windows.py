"""The ``realtime`` schema: per-minute counts by event time, a live funnel, a watermark.

Every statement here runs inside the consumer's batch transaction, on the rows that batch
inserted into the raw table (``stream_inserted``): a batch that rolls back counts nothing,
a redelivered event that the raw table already holds is not inserted and so not counted
again. Exactly once in the raw table therefore means exactly once in the windows.

The watermark is the latest event time seen minus the allowed lateness. A minute window
closes when its end is at or before the watermark; an event that arrives for a closed window
is not counted in it but kept in ``late_events`` (the nightly batch's marts count it from the
raw table), so a closed window never changes. The watermark a batch compares with is the one
before the batch (batches are serialised by the consumer's lock, so it is well defined).
"""

from __future__ import annotations

import psycopg2.extensions

Cursor = psycopg2.extensions.cursor

SCHEMA = "realtime"
STREAM_KEY = "clickstream"

DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.event_counts_per_minute (
    window_start_at timestamptz not null,
    event_name varchar not null,
    platform varchar not null,
    event_count bigint not null,
    updated_at timestamptz not null,
    primary key (window_start_at, event_name, platform)
);
create table if not exists {SCHEMA}.watermarks (
    stream_name varchar primary key,
    latest_event_at timestamptz not null,
    watermark_at timestamptz not null,
    allowed_lateness_seconds integer not null,
    updated_at timestamptz not null
);
create table if not exists {SCHEMA}.late_events (
    event_id varchar primary key,
    event_name varchar not null,
    platform varchar not null,
    window_start_at timestamptz not null,
    event_at timestamptz not null,
    watermark_at timestamptz not null,
    arrived_at timestamptz not null
);
create or replace view {SCHEMA}.closed_windows as
select counts.window_start_at, counts.event_name, counts.platform, counts.event_count
from {SCHEMA}.event_counts_per_minute as counts
inner join {SCHEMA}.watermarks as marks on marks.stream_name = '{STREAM_KEY}'
where counts.window_start_at + interval '1 minute' <= marks.watermark_at;
create or replace view {SCHEMA}.funnel_per_minute as
select
    counts.window_start_at,
    counts.platform,
    sum(case when counts.event_name = 'view' then counts.event_count else 0 end) as views,
    sum(case when counts.event_name = 'add_to_cart' then counts.event_count else 0 end)
        as add_to_carts,
    sum(case when counts.event_name = 'purchase' then counts.event_count else 0 end)
        as purchases,
    bool_or(counts.window_start_at + interval '1 minute' <= marks.watermark_at) as is_closed
from {SCHEMA}.event_counts_per_minute as counts
left join {SCHEMA}.watermarks as marks on marks.stream_name = '{STREAM_KEY}'
group by counts.window_start_at, counts.platform;
"""
"""The tables and views (idempotent). The funnel is a view over the counts, so it can never
disagree with them; the consumer creates all of it before its first batch."""

_KEYED = """
    date_trunc('minute', inserted.event_at) as window_start_at,
    coalesce(lower(trim(inserted.event_name)), 'unknown') as event_name,
    coalesce(lower(trim(inserted.platform)), 'unknown') as platform
"""
"""How an event is put in a window: the same cleaning as the staging model (lower, trim)."""


def prepare(cur: Cursor) -> None:
    """Create the ``realtime`` schema's tables and views if they are missing."""
    cur.execute(DDL)


def count_batch(cur: Cursor, allowed_lateness_seconds: int) -> tuple[int, int]:
    """Count the batch's inserted events (temp table ``stream_inserted``: ``event_id,
    event_name, platform, event_at``) into their windows, or into ``late_events`` when their
    window had closed; move the watermark. Returns (counted, late)."""
    cur.execute(
        f"""
        select watermark_at from {SCHEMA}.watermarks where stream_name = %(stream)s
        """,
        {"stream": STREAM_KEY},
    )
    row = cur.fetchone()
    watermark = row[0] if row else None
    cur.execute(
        f"""
        insert into {SCHEMA}.late_events (
            event_id, event_name, platform, window_start_at, event_at, watermark_at, arrived_at
        )
        select inserted.event_id, keyed.event_name, keyed.platform, keyed.window_start_at,
            inserted.event_at, %(watermark)s, now()
        from stream_inserted as inserted
        cross join lateral (select {_KEYED}) as keyed
        where %(watermark)s is not null
            and keyed.window_start_at + interval '1 minute' <= %(watermark)s
        on conflict (event_id) do nothing
        """,
        {"watermark": watermark},
    )
    late = cur.rowcount
    cur.execute(
        f"""
        insert into {SCHEMA}.event_counts_per_minute as counts (
            window_start_at, event_name, platform, event_count, updated_at
        )
        select keyed.window_start_at, keyed.event_name, keyed.platform, count(*), now()
        from stream_inserted as inserted
        cross join lateral (select {_KEYED}) as keyed
        where %(watermark)s is null
            or keyed.window_start_at + interval '1 minute' > %(watermark)s
        group by keyed.window_start_at, keyed.event_name, keyed.platform
        on conflict (window_start_at, event_name, platform) do update
            set event_count = counts.event_count + excluded.event_count,
                updated_at = excluded.updated_at
        """,
        {"watermark": watermark},
    )
    cur.execute(
        f"""
        insert into {SCHEMA}.watermarks as marks (
            stream_name, latest_event_at, watermark_at, allowed_lateness_seconds, updated_at
        )
        select %(stream)s, max(event_at),
            max(event_at) - make_interval(secs => %(lateness)s), %(lateness)s, now()
        from stream_inserted
        having max(event_at) is not null
        on conflict (stream_name) do update
            set latest_event_at = greatest(marks.latest_event_at, excluded.latest_event_at),
                watermark_at = greatest(marks.watermark_at, excluded.watermark_at),
                allowed_lateness_seconds = excluded.allowed_lateness_seconds,
                updated_at = excluded.updated_at
        """,
        {"stream": STREAM_KEY, "lateness": allowed_lateness_seconds},
    )
    cur.execute("select count(*) from stream_inserted")
    total = cur.fetchone()
    return (total[0] if total else 0) - late, late
