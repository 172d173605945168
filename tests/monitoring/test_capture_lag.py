"""The replication slot's lag in `shopflow status`, on a real server: a small world read from
its log, changes left unread, limits lowered, the slot held by a reader, the slot dropped.

The lag counts every database's log on the server (the warehouse's own loads included), so it
is bounded by positions measured around each step, never compared with a fixed number.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass

import psycopg2
import psycopg2.extras
import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database.connection import autocommit
from ingestion.database.replication import slot_prefix
from ingestion.monitoring import capture_lag
from ingestion.monitoring.capture_lag import (
    CDC,
    CURSOR,
    CaptureStatus,
    human_age,
    human_bytes,
    read_capture,
)
from ingestion.monitoring.status import read_status
from ingestion.settings import ENV_DATABASE, ENV_OPS_DATABASE, ConnectionSettings
from ingestion.sources.ops.slot import PUBLICATION, SlotHealth, SlotLag, slot_lag
from tests.integration.ingest_support import IngestWorld, simulated_world

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCALE = 0.05
RESYNC_SENTENCE = "it resyncs by itself on the next `shopflow ingest ops`"
SLOT_WAIT_SECONDS = 10.0


@pytest.fixture(scope="module")
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    with simulated_world(server_settings, tmp_path_factory.mktemp("lag"), SCALE) as created:
        yield created


@dataclass(frozen=True)
class Moment:
    """The server's log position and clock at one instant."""

    lsn: int
    at: dt.datetime


def server_moment(world: IngestWorld, position: str = "pg_current_wal_lsn") -> Moment:
    """Now, with the log written so far (the lag's measure) or, with
    ``pg_current_wal_insert_lsn``, inserted so far (ahead of it until the writer catches up)."""
    lsn, at = world.query(
        f"select ({position}() - '0/0'::pg_lsn)::bigint, clock_timestamp()", ops=True
    )[0]
    return Moment(int(lsn), at)


def change_customers(world: IngestWorld) -> None:
    """Touch a few customers in the source, in one transaction, without ingesting; its
    commit waits for the log to be written (the test server does not, by default)."""
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        cursor.execute("set synchronous_commit = on")
        cursor.execute(
            "update ops.customers set city = city || ' (moved)', updated_at = now()"
            " where customer_id in (select customer_id from ops.customers"
            " order by customer_id limit 3)"
        )


def cli_status(world: IngestWorld, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    """`shopflow status` against this world: exit code and output."""
    monkeypatch.setenv(ENV_DATABASE, world.settings.database)
    monkeypatch.setenv(ENV_OPS_DATABASE, world.settings.ops_database)
    result = CliRunner().invoke(app, ["status", *args], env={"COLUMNS": "250"})
    return result.exit_code, result.output


def capture_of(world: IngestWorld) -> CaptureStatus:
    capture = read_status(world.settings).capture
    assert capture is not None
    return capture


def test_before_the_first_copy_the_warehouse_reads_by_cursor(world: IngestWorld) -> None:
    capture = read_capture(world.settings)
    assert capture == CaptureStatus(CURSOR)
    assert capture.problem() is None


def test_after_an_ingest_the_slot_trails_little_and_status_is_green(
    world: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert world.ingest("ops", ops_capture=CDC).ok
    status = read_status(world.settings)
    capture = status.capture
    assert capture is not None and capture.mode == CDC
    assert capture.slot is not None
    assert capture.slot.startswith(slot_prefix(world.settings.database))
    assert capture.resyncs == 0 and capture.lag is not None
    assert capture.lag.health.wal_status == "reserved"
    assert capture.lag.lag_bytes is not None
    assert 0 <= capture.lag.lag_bytes < capture_lag.LAG_BYTES_LIMIT
    assert capture.lag.peeked and capture.lag.oldest_unread_at is None
    assert status.problems() == []
    code, output = cli_status(world, monkeypatch)
    assert code == 0, output
    assert "Operations capture" in output and capture.slot in output
    assert "nothing unread" in output


@pytest.fixture(scope="module")
def unread_change(world: IngestWorld) -> tuple[Moment, Moment]:
    """Customers changed in the source and left unread: the server's moments around it."""
    before = server_moment(world, "pg_current_wal_insert_lsn")
    change_customers(world)
    return before, server_moment(world)


def test_unread_changes_show_as_log_held_and_their_age(
    world: IngestWorld, unread_change: tuple[Moment, Moment]
) -> None:
    before, after = unread_change
    lag = capture_of(world).lag
    assert lag is not None and lag.lag_bytes is not None
    # the slot confirmed a position before the change; the server is past the change now
    assert lag.lag_bytes >= after.lsn - before.lsn > 0
    assert lag.oldest_unread_at is not None
    assert before.at <= lag.oldest_unread_at <= after.at
    age = lag.oldest_unread_age
    assert age is not None and dt.timedelta(0) <= age < dt.timedelta(minutes=5)
    assert capture_of(world).problem() is None  # far under the default limits


def test_past_the_age_limit_status_is_red_and_says_what_to_do(
    world: IngestWorld,
    unread_change: tuple[Moment, Moment],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(capture_lag, "UNREAD_AGE_LIMIT", dt.timedelta(0))
    capture = capture_of(world)
    problem = capture.problem()
    assert problem is not None and "has a change unread for" in problem
    assert "holds" not in problem  # the log held is still under its limit
    assert "run `shopflow ingest ops`" in problem
    assert f"select pg_drop_replication_slot('{capture.slot}')" in problem
    what_to_do = problem.split(": ", 1)[1]  # the age before it moves on between reads
    assert [p for p in read_status(world.settings).problems() if what_to_do in p]
    code, output = cli_status(world, monkeypatch, "--json")
    assert code == 1
    document = json.loads(output)
    assert document["healthy"] is False
    assert [p for p in document["problems"] if "has a change unread" in p and what_to_do in p]
    assert document["ops_capture"]["mode"] == CDC
    assert document["ops_capture"]["oldest_unread_age_seconds"] >= 0
    assert document["ops_capture"]["lag_bytes"] >= unread_change[1].lsn - unread_change[0].lsn


def test_past_the_bytes_limit_status_is_red_and_says_what_to_do(
    world: IngestWorld,
    unread_change: tuple[Moment, Moment],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(capture_lag, "LAG_BYTES_LIMIT", 1)
    problem = capture_of(world).problem()
    assert problem is not None and "of the server's log (limit 1 bytes)" in problem
    assert "has a change unread" not in problem
    code, output = cli_status(world, monkeypatch)
    assert code == 1
    assert "RED:" in output and "shopflow ingest ops" in output


def test_a_slot_held_by_a_reader_still_shows_its_lag_but_no_age(
    world: IngestWorld, unread_change: tuple[Moment, Moment]
) -> None:
    slot = capture_of(world).slot
    assert slot is not None
    reader = psycopg2.connect(
        world.settings.ops_url, connection_factory=psycopg2.extras.LogicalReplicationConnection
    )
    with closing(reader), reader.cursor() as stream:
        stream.start_replication(
            slot_name=slot,
            decode=False,
            options={"proto_version": "1", "publication_names": PUBLICATION},
        )
        wait_for_slot(world, slot, active=True)
        with autocommit(world.settings, world.settings.ops_database) as cursor:
            held = slot_lag(cursor, slot)
    wait_for_slot(world, slot, active=False)
    assert held is not None and held.peeked is False
    assert held.oldest_unread_at is None and held.lag_bytes is not None
    assert held.lag_bytes >= unread_change[1].lsn - unread_change[0].lsn
    assert CaptureStatus(CDC, slot, 0, held).problem() is None


def wait_for_slot(world: IngestWorld, slot: str, active: bool) -> None:
    """Until the server shows ``slot`` held by a reader (or released), within a few seconds."""
    deadline = time.monotonic() + SLOT_WAIT_SECONDS
    query = f"select active from pg_replication_slots where slot_name = '{slot}'"
    while world.scalar(query, ops=True) is not active:
        assert time.monotonic() < deadline, f"slot {slot} never became active={active}"
        time.sleep(0.05)


def test_after_the_next_ingest_the_slot_has_caught_up(
    world: IngestWorld, unread_change: tuple[Moment, Moment]
) -> None:
    assert world.ingest("ops", ops_capture=CDC).ok
    capture = capture_of(world)
    now = server_moment(world)
    assert capture.lag is not None and capture.lag.lag_bytes is not None
    # confirmed at or past the change: what it still holds was written after the change
    assert 0 <= capture.lag.lag_bytes <= now.lsn - unread_change[1].lsn
    assert capture.lag.peeked and capture.lag.oldest_unread_at is None
    assert capture.problem() is None and capture.resyncs == 0


def test_a_dropped_slot_is_red_until_the_next_ingest_resyncs(
    world: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slot = capture_of(world).slot
    world.query(f"select pg_drop_replication_slot('{slot}')", ops=True)
    capture = capture_of(world)
    assert capture.mode == CDC and capture.lag is None
    problem = capture.problem()
    assert problem is not None and f"slot {slot}" in problem and "is gone" in problem
    assert RESYNC_SENTENCE in problem
    code, output = cli_status(world, monkeypatch)
    assert code == 1 and "gone" in output and "resyncs by itself" in output
    assert world.ingest("ops", ops_capture=CDC).ok
    resynced = capture_of(world)
    assert resynced.resyncs == 1  # a new slot (named from the generations left: maybe alike)
    assert resynced.lag is not None and resynced.problem() is None


def test_an_unreachable_operations_database_is_red_and_the_rest_still_answers(
    world: IngestWorld,
) -> None:
    gone = world.settings.with_databases(world.settings.database, "shopflow_no_such_database")
    capture = read_capture(gone)
    assert (capture.mode, capture.slot, capture.lag) == (CDC, capture_of(world).slot, None)
    problem = capture.problem()
    assert problem is not None and "cannot be reached" in problem
    assert "shopflow_no_such_database" in problem


def lost_slot() -> SlotLag:
    health = SlotHealth("shopflow_w_000001", "lost", "wal_removed", 10)
    return SlotLag(health, 5, None, False, dt.datetime(2026, 12, 7, tzinfo=dt.UTC))


def test_a_lost_slot_is_red_and_resyncs_by_itself() -> None:
    problem = CaptureStatus(CDC, "shopflow_w_000001", 2, lost_slot()).problem()
    assert problem is not None
    assert "invalidated by the server (wal_removed)" in problem
    assert RESYNC_SENTENCE in problem
    assert CaptureStatus(CURSOR).problem() is None


@pytest.mark.parametrize(
    ("count", "text"),
    [(512, "512 bytes"), (1536, "1.5 kB"), (25 * 1024**2, "25.0 MB"), (1288490188, "1.2 GB")],
)
def test_log_sizes_read_like_postgres_writes_them(count: int, text: str) -> None:
    assert human_bytes(count) == text


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (dt.timedelta(seconds=45), "45 s"),
        (dt.timedelta(minutes=12), "12 min"),
        (dt.timedelta(hours=5), "5.0 h"),
        (dt.timedelta(days=2, hours=12), "2.5 days"),
    ],
)
def test_ages_read_in_their_largest_readable_unit(age: dt.timedelta, text: str) -> None:
    assert human_age(age) == text
