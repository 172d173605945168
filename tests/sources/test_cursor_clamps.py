"""The pure logic of the cursors that cannot be fooled: the clock clamp, the cadence, the ranges."""

from __future__ import annotations

import datetime as dt

from ingestion.sources.cursor_trust import RUNS_STATE_KEY, due
from ingestion.sources.ops.cursor import as_utc
from ingestion.sources.ops.reconcile import RangeCheck
from ingestion.sources.storefront.cursors import max_before

NOW = dt.datetime(2026, 1, 10, 12, tzinfo=dt.UTC)


def test_a_future_stamp_never_becomes_the_cursor() -> None:
    rows = [
        {"sold_at": NOW - dt.timedelta(days=2)},
        {"sold_at": NOW + dt.timedelta(days=365)},
        {"sold_at": NOW - dt.timedelta(hours=1)},
    ]
    assert max_before(rows, "sold_at", NOW) == NOW - dt.timedelta(hours=1)
    assert max_before(rows[1:2], "sold_at", NOW) is None


def test_stored_cursors_read_back_as_aware_utc() -> None:
    assert as_utc("2026-01-10T13:00:00+01:00") == NOW
    assert as_utc(dt.datetime(2026, 1, 10, 12)) == NOW  # a naive stamp is UTC
    assert as_utc(None) is None


def test_the_reconciliation_runs_every_n_runs_and_never_at_zero() -> None:
    state: dict[str, object] = {}
    assert [due(state, 3) for _ in range(6)] == [False, False, True, False, False, True]
    assert state[RUNS_STATE_KEY] == 0
    assert all(due({}, 1) for _ in range(3))
    assert not any(due({}, 0) for _ in range(3))


def test_both_sides_hash_the_same_columns_by_the_same_ranges() -> None:
    check = RangeCheck("ops", "orders", "order_id", ("order_id", "status", "updated_at"), 1000)
    source = repr(check.ranges_query("ops"))
    raw = repr(check.ranges_query("raw_ops"))
    assert source.replace("'ops'", "'raw_ops'") == raw
    for column in check.columns:
        assert f"Identifier('{column}')" in source
    assert "Literal(1000)" in source
