"""The warehouse's slot gone from the server: the next run copies again, on a new slot.

A slot can vanish (an operator drops it, a failover leaves it behind) or be invalidated by the
server (it kept more log than ``max_slot_wal_keep_size`` allows: ``wal_status`` ``lost``). The
changes it held are gone either way, so the run after must notice, start the next slot
generation with a fresh initial copy, turn the keys the source no longer has into tombstones,
and leave exactly one slot of the warehouse behind. A slot cannot be made ``lost`` on the
shared test server without writing gigabytes of log, so that decision is checked on
``copy_reason`` with a stand-in connection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ingestion.database.connection import autocommit
from ingestion.database.replication import drop_slots, slot_name, warehouse_slots
from ingestion.settings import OPS_CAPTURE_CDC
from ingestion.sources.ops.slot import Position, copy_reason
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.kills import change_the_source, ingest_killed_at
from tests.reliability.cdc.parity import assert_raw_equals_source, rows_loaded

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

POSITION = Position("shopflow_w_000003", 3, 1 << 32, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), 0)


def drop_the_slot(world: IngestWorld) -> tuple[int, int]:
    """Drop the slot the warehouse follows; its record's generation and resyncs before."""
    slot, generation, resyncs = world.query(
        "select slot_name, generation, resyncs from raw_ops._cdc_position"
    )[0]
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        assert drop_slots(cursor, names=[slot]) == [slot]
    return generation, resyncs


def slots_of(world: IngestWorld) -> list[str]:
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        return warehouse_slots(cursor, world.settings.database)


def test_a_dropped_slot_is_resynced_on_the_next_generation(world: IngestWorld) -> None:
    generation, resyncs = drop_the_slot(world)
    change_the_source(world)  # changes (deletes among them) the dropped slot never gives
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings)
    following = slot_name(world.settings.database, generation + 1)
    assert world.query("select slot_name, generation, resyncs from raw_ops._cdc_position") == [
        (following, generation + 1, resyncs + 1)
    ]
    assert slots_of(world) == [following]
    again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert again == dict.fromkeys(again, 0)


def test_a_resync_killed_during_its_copy_is_redone(world: IngestWorld) -> None:
    generation, resyncs = drop_the_slot(world)
    change_the_source(world)
    # the killed run made the next generation's slot; the record still names the dropped one
    ingest_killed_at(world, "copying", 2)
    assert slots_of(world) == [slot_name(world.settings.database, generation + 1)]
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings)
    following = slot_name(world.settings.database, generation + 2)
    assert world.query("select slot_name, resyncs from raw_ops._cdc_position") == [
        (following, resyncs + 1)
    ]
    assert slots_of(world) == [following]


class StandInCursor:
    """Answers ``slot_health``'s one query with ``row`` (None: no such slot)."""

    def __init__(self, row: tuple[Any, ...] | None) -> None:
        self.row = row
        self.asked: list[tuple[str, Any]] = []

    def __enter__(self) -> StandInCursor:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, query: str, params: Any = None) -> None:
        self.asked.append((query, params))

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.row


class StandInConnection:
    def __init__(self, row: tuple[Any, ...] | None) -> None:
        self.cursor_given = StandInCursor(row)

    def cursor(self) -> StandInCursor:
        return self.cursor_given


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            ("shopflow_w_000003", "lost", None, None),
            "was invalidated by the server (wal_status lost)",
        ),
        (
            ("shopflow_w_000003", "lost", "wal_removed", "0/10"),
            "was invalidated by the server (wal_removed)",
        ),
        (
            ("shopflow_w_000003", "reserved", "idle_timeout", "0/10"),
            "was invalidated by the server (idle_timeout)",
        ),
        (None, "is gone (dropped on the server)"),
    ],
    ids=["lost", "wal-removed", "idle-timeout", "dropped"],
)
def test_an_unusable_slot_makes_the_run_copy_again(
    row: tuple[Any, ...] | None, expected: str
) -> None:
    ops = StandInConnection(row)
    reason = copy_reason(ops, POSITION)  # type: ignore[arg-type]
    assert reason == f"the slot {POSITION.slot} {expected}"
    assert ops.cursor_given.asked[0][1] == (POSITION.slot,)


def test_a_healthy_slot_is_read_on_and_no_record_means_a_first_copy() -> None:
    healthy = StandInConnection(("shopflow_w_000003", "reserved", None, "0/10"))
    assert copy_reason(healthy, POSITION) == ""  # type: ignore[arg-type]
    assert copy_reason(StandInConnection(None), None) == (  # type: ignore[arg-type]
        "no initial copy recorded in the warehouse yet"
    )
