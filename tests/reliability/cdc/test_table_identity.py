"""The log names a table by its object id: a rename keeps its changes, a new table is copied.

An upstream team renames ``ops.customers`` away and back (the table keeps its id, and the log
keeps recording its changes under the new name): while it is away only its unit fails, and
once it is back every change made meanwhile lands. Another drops ``ops.deliveries`` and puts a
new table in its place (a new id: the slot never saw its rows): the next run copies every table
again. So does a table the last copy did not read (a release that reads one more table). Each
ends with raw equal to the source and a run after with nothing to load.
"""

from __future__ import annotations

import pytest

from ingestion.settings import OPS_CAPTURE_CDC
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.parity import assert_raw_equals_source, ops_transaction, rows_loaded

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def nothing_left(world: IngestWorld) -> None:
    again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert again == dict.fromkeys(again, 0)


def test_a_table_renamed_away_and_back_keeps_the_changes_made_meanwhile(
    world: IngestWorld,
) -> None:
    ops_transaction(
        world.settings,
        "alter table ops.customers rename to customers_archived",
        "update ops.customers_archived set city = 'While away' where customer_id ="
        " (select min(customer_id) from ops.customers_archived)",
        "update ops.orders set channel = 'store' where order_id ="
        " (select min(order_id) from ops.orders where channel <> 'store')",
    )
    away = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
    assert {u.table for u in away.units if u.status != "ok"} == {"customers"}
    assert_raw_equals_source(world.settings, ["orders"])
    ops_transaction(
        world.settings,
        "alter table ops.customers_archived rename to customers",
        "update ops.customers set city = 'Back again' where customer_id ="
        " (select max(customer_id) from ops.customers)",
    )
    back = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert back["customers"] == 2
    assert_raw_equals_source(world.settings)
    nothing_left(world)


def test_a_table_dropped_and_created_again_is_copied_again(world: IngestWorld) -> None:
    resyncs = world.scalar("select resyncs from raw_ops._cdc_position")
    ops_transaction(
        world.settings,
        "create table ops.deliveries_new (like ops.deliveries including all)",
        "insert into ops.deliveries_new select * from ops.deliveries where delivery_id % 3 <> 0",
        "update ops.deliveries_new set carrier = 'La Poste' where delivery_id % 3 = 1",
        "drop table ops.deliveries",
        "alter table ops.deliveries_new rename to deliveries",
    )
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings)
    assert world.scalar("select resyncs from raw_ops._cdc_position") == resyncs + 1  # type: ignore[operator]
    nothing_left(world)


def test_a_table_the_last_copy_did_not_read_is_copied(world: IngestWorld) -> None:
    """As after a release that reads one more table: the record lists the tables it copied."""
    resyncs = world.scalar("select resyncs from raw_ops._cdc_position")
    world.query("update raw_ops._cdc_position set relations = relations - 'payments' returning 1")
    ops_transaction(
        world.settings,
        "update ops.payments set status = 'refunded' where payment_id ="
        " (select min(payment_id) from ops.payments where status <> 'refunded')",
    )
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings)
    assert world.scalar("select resyncs from raw_ops._cdc_position") == resyncs + 1  # type: ignore[operator]
    assert world.scalar("select relations ? 'payments' from raw_ops._cdc_position") is True
    nothing_left(world)
