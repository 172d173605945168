"""The ops tables read from the log load together, and a table that cannot load still fails alone.

A run from the log loads every table with changes in one ``pipeline.run`` (one load package)
and leaves the tables without changes out (``ingestion.loading.runner.run_together``). When that
run fails, its package is dropped and the tables are loaded again one by one from the same read:
the table that cannot load fails alone, its own package waits aside, the others land, and the
log stays unconfirmed until the table loads (exactly-once: the next run reads it again).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.loading.pending_packages import PARKED_FOLDER
from ingestion.loading.runtime import pipeline_name, pipelines_dir
from ingestion.settings import OPS_CAPTURE_CDC
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.parity import assert_raw_equals_source, ops_transaction, rows_loaded

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

CHANGE_ORDERS_AND_CUSTOMERS = (
    "update ops.orders set channel = 'store' where order_id ="
    " (select min(order_id) from ops.orders where channel <> 'store')",
    "update ops.customers set city = city || '!' where customer_id ="
    " (select min(customer_id) from ops.customers)",
)


def parked_packages(world: IngestWorld) -> list[Path]:
    """The ops pipeline's packages set aside after failing (see ``pending_packages``)."""
    parked = pipelines_dir(world.settings) / pipeline_name("ops") / PARKED_FOLDER
    return sorted(parked.glob("*/*"))


def warehouse(world: IngestWorld, *statements: str) -> None:
    with autocommit(world.settings, world.settings.database) as cursor:
        for statement in statements:
            cursor.execute(statement)


def applied_position(world: IngestWorld) -> object:
    return world.scalar("select applied_lsn from raw_ops._cdc_position")


def test_the_changed_tables_load_in_one_package_and_the_others_are_left_out(
    world: IngestWorld,
) -> None:
    ops_transaction(world.settings, *CHANGE_ORDERS_AND_CUSTOMERS)
    report = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)

    loaded = rows_loaded(report)
    assert loaded == {
        "customers": 1,
        "orders": 1,
        "order_items": 0,
        "payments": 0,
        "deliveries": 0,
    }
    units = {unit.table: unit for unit in report.units}
    assert len(units["orders"].load_ids) == 1
    assert units["orders"].load_ids == units["customers"].load_ids  # one package for both
    assert all(not units[t].load_ids for t in ("order_items", "payments", "deliveries"))
    assert all(unit.balanced for unit in report.units)
    assert_raw_equals_source(world.settings)


def test_a_table_that_cannot_load_fails_alone_and_the_log_waits_for_it(
    world: IngestWorld,
) -> None:
    position = applied_position(world)
    ops_transaction(world.settings, *CHANGE_ORDERS_AND_CUSTOMERS)
    warehouse(
        world,
        "create function raw_ops.refuse() returns trigger language plpgsql as"
        " $$ begin raise exception 'orders are frozen by the test'; end $$",
        "create trigger refuse before insert on raw_ops.orders"
        " for each statement execute function raw_ops.refuse()",
    )
    try:
        refused = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
    finally:
        warehouse(world, "drop function raw_ops.refuse() cascade")

    statuses = {unit.table: unit.status for unit in refused.units}
    assert statuses == {
        "customers": "ok",
        "orders": "failed",
        "order_items": "ok",
        "payments": "ok",
        "deliveries": "ok",
    }
    assert "frozen by the test" in (refused.sources[0].error or "")
    assert_raw_equals_source(world.settings, ["customers"])
    assert applied_position(world) == position  # not confirmed past the orders' change
    # orders' own package waits aside; the package of the run together was dropped
    assert len(parked_packages(world)) == 1

    again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert again["customers"] == 1  # read again from the log, applied again: the same row
    assert parked_packages(world) == []
    assert applied_position(world) != position
    assert_raw_equals_source(world.settings)
    nothing_left = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert nothing_left == dict.fromkeys(nothing_left, 0)
