"""kill -9 of the ops ingestion from the log at each point of its run; the next run heals.

A child process runs `shopflow ingest ops` (change data capture) and SIGKILLs itself at one
point (``killed_ingest``): while folding the log, in the middle of dlt's load, after the load
before the warehouse's record, after the record before the slot advance, during the initial
copy. The source changes before and after the kill; then one clean run must leave raw equal
to the source row by row, and the run after it must load nothing (nothing re-applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.database.replication import warehouse_slots
from ingestion.settings import OPS_CAPTURE_CDC, ConnectionSettings
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.reliability.cdc.kills import change_the_source, ingest_killed_at
from tests.reliability.cdc.parity import (
    WORLD_SCALE,
    assert_raw_equals_source,
    change_log_differences,
    differences,
    ops_transaction,
    rows_loaded,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


@dataclass(frozen=True)
class Kill:
    """One kill point of ``killed_ingest``, on its ``call``-th call, and what raw holds then."""

    point: str
    call: int
    raw_current_after_kill: bool
    """Whether the killed run had already loaded every change (raw equals the source)."""


KILLS = (
    Kill("reading", 3, raw_current_after_kill=False),
    Kill("loading", 2, raw_current_after_kill=False),
    Kill("recording", 1, raw_current_after_kill=True),
    Kill("advancing", 1, raw_current_after_kill=True),
)


def recorded_and_confirmed(world: IngestWorld) -> tuple[int, int]:
    """The warehouse's applied log position and its slot's confirmed one."""
    applied, slot = world.query("select applied_lsn, slot_name from raw_ops._cdc_position")[0]
    confirmed = world.scalar(
        f"select confirmed_flush_lsn - '0/0'::pg_lsn from pg_replication_slots"
        f" where slot_name = '{slot}'",
        ops=True,
    )
    return int(applied), int(confirmed)  # type: ignore[call-overload]


@pytest.mark.parametrize("kill", KILLS, ids=[k.point for k in KILLS])
def test_killed_run_is_healed_by_the_next_one(world: IngestWorld, kill: Kill) -> None:
    change_the_source(world)
    applied_before, _ = recorded_and_confirmed(world)
    ingest_killed_at(world, kill.point, kill.call)
    stale = [
        line
        for t in ("customers", "order_items", "deliveries")
        for line in differences(world.settings, t)
    ]
    assert (not stale) == kill.raw_current_after_kill, stale[:5]
    applied, confirmed = recorded_and_confirmed(world)
    if kill.point == "advancing":
        assert applied > applied_before and confirmed < applied  # recorded, not advanced
    else:
        assert applied == applied_before  # nothing recorded
    ops_transaction(
        world.settings,
        "update ops.orders set channel = 'app', updated_at = now()"
        " where order_id = (select min(order_id) from ops.orders where channel <> 'app')",
    )
    healed = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    if kill.point == "advancing":  # what was recorded is skipped by position: only the update
        assert healed == {**dict.fromkeys(healed, 0), "orders": 1}
    else:
        assert healed["orders"] >= 1
    assert_raw_equals_source(world.settings)
    assert change_log_differences(world.settings) == []  # the change log ends at the source
    assert rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)) == dict.fromkeys(healed, 0)


def test_killed_initial_copy_is_redone_on_a_new_slot(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with simulated_world(server_settings, tmp_path, WORLD_SCALE) as fresh:
        ingest_killed_at(fresh, "copying", 2)  # customers copied and loaded, orders not
        assert fresh.query("select count(*) from raw_ops.customers") != [(0,)]
        assert fresh.scalar("select to_regclass('raw_ops._cdc_position')") is None
        change_the_source(fresh)
        rows_loaded(fresh.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        assert_raw_equals_source(fresh.settings)
        assert change_log_differences(fresh.settings) == []
        with autocommit(fresh.settings, fresh.settings.ops_database) as cursor:
            slots = warehouse_slots(cursor, fresh.settings.database)
        generation = fresh.scalar("select generation from raw_ops._cdc_position")
        assert generation == 2 and len(slots) == 1, slots  # the killed copy's slot dropped
        again = rows_loaded(fresh.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        assert again == dict.fromkeys(again, 0)
