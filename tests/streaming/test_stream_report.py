"""The report's "last hour" chart reads the stream's windows: per minute, both platforms
together, each figure equal to the events of that minute in the raw table."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestion.database.connection import autocommit
from ingestion.reporting.page import render_page
from ingestion.reporting.queries import ReportData, last_hour_minutes
from ingestion.reporting.sections import last_hour
from tests.streaming.stream_support import StreamWorld

pytestmark = pytest.mark.slow

RAW_PER_MINUTE = """
    select date_trunc('minute', "timestamp") as minute,
        count(*) filter (where lower(trim(event_name)) = 'view'),
        count(*) filter (where lower(trim(event_name)) = 'add_to_cart'),
        count(*) filter (where lower(trim(event_name)) = 'purchase')
    from raw_files.events
    where _arrived_by = 'stream'
        and event_id not in (select event_id from realtime.late_events)  -- counted apart
    group by 1
    order by 1
"""


def test_the_last_hour_chart_equals_the_streamed_events_per_minute(
    stream_world: StreamWorld,
) -> None:
    stream_world.publish(stream_world.messages(1_500, seconds=300))  # five minutes of events
    stream_world.consume()
    with autocommit(stream_world.settings, stream_world.settings.database) as cursor:
        minutes = last_hour_minutes(cursor)
    raw = stream_world.rows(RAW_PER_MINUTE)
    assert len(minutes) >= 5
    assert [(m.window_start_at, m.views, m.add_to_carts, m.purchases) for m in minutes] == raw
    section = last_hour(ReportData(None, [], [], [], [], [], [], last_hour=minutes))
    html = render_page([section], datetime.now(UTC), None, "shopflow")
    assert '<section id="last-hour"' in html and 'class="no-data"' not in html
    views = sum(m.views for m in minutes)
    assert views > 0
    assert html.count('data-series="Views"') >= len(minutes)


def test_without_a_stream_the_chart_says_how_to_start_one(stream_world: StreamWorld) -> None:
    with autocommit(stream_world.settings, stream_world.settings.database) as cursor:
        assert last_hour_minutes(cursor) == []
    section = last_hour(ReportData(None, [], [], [], [], [], []))
    html = render_page([section], datetime.now(UTC), None, "shopflow")
    assert "shopflow stream consume" in html
