"""`shopflow simulate stream` times its events at the simulated world's business clock: the
warehouse's "today" is the latest activity of any source, so events stamped with the wall
clock on a world whose orders end months earlier would move every mart's windows."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.simulators.world.live_clickstream import business_now
from tests.streaming.stream_support import StreamWorld

pytestmark = pytest.mark.slow


def test_published_events_happen_at_the_worlds_business_clock(
    stream_world: StreamWorld,
) -> None:
    published = CliRunner().invoke(app, ["simulate", "stream", "--events", "200"])
    assert published.exit_code == 0, published.output
    stream_world.consume()
    first, last = stream_world.rows(
        'select min("timestamp"), max("timestamp") from raw_files.events'
    )[0]
    clock = dt.datetime.fromtimestamp(business_now(stream_world.settings), dt.UTC)
    assert clock - dt.timedelta(minutes=1) <= first <= last <= clock
    assert abs((dt.datetime.now(dt.UTC) - clock).days) > 30  # the world's clock, not today's
