"""A value the raw types cannot take does not stop the capture.

``'infinity'`` is a valid ``timestamptz`` (common for "open-ended" dates): the log reader loads
it as 9999-12-31 23:59:59.999999, as the cursor reader does. A value no raw type can hold
(``'NaN'`` in a ``numeric(12,2)``: Postgres accepts it, Arrow's decimals do not) sets its row
aside in ``raw_ops.rejected_records`` with the reason, counted as rejected. Before, either one
failed its table's unit on every run, so no run confirmed a position, every ops table stopped
advancing and the slot kept the server's log until the server invalidated it. In both cases the
run ends ok, the other changes land, and the run after finds nothing left to load.
"""

from __future__ import annotations

import pytest

from ingestion.loading.runner import IngestReport
from ingestion.settings import OPS_CAPTURE_CDC
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.parity import assert_raw_equals_source, ops_transaction, rows_loaded

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def with_a_good_change(world: IngestWorld, bad: str) -> IngestReport:
    """``bad`` and a good change of another table in one transaction, then an ingestion."""
    ops_transaction(
        world.settings,
        bad,
        "update ops.customers set city = city || '!' where customer_id ="
        " (select min(customer_id) from ops.customers)",
    )
    report = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
    assert report.ok, report.units
    assert rows_loaded(report)["customers"] == 1
    assert_raw_equals_source(world.settings, ["customers"])
    return report


def test_an_infinite_timestamp_does_not_stop_the_capture(world: IngestWorld) -> None:
    with_a_good_change(
        world,
        "update ops.deliveries set delivered_at = 'infinity' where delivery_id ="
        " (select min(delivery_id) from ops.deliveries where shipped_at is not null)",
    )
    again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert again == dict.fromkeys(again, 0)


def test_a_value_no_raw_type_holds_is_set_aside_and_the_capture_goes_on(
    world: IngestWorld,
) -> None:
    report = with_a_good_change(
        world,
        "update ops.payments set amount = 'NaN' where payment_id ="
        " (select min(payment_id) from ops.payments)",
    )
    payments = next(unit for unit in report.units if unit.table == "payments")
    assert (payments.rows_rejected, payments.balanced) == (1, True)
    reasons = world.query("select reason from raw_ops.rejected_records where resource = 'payments'")
    assert len(reasons) == 1 and "amount = 'NaN' does not fit numeric(12,2)" in reasons[0][0]
    again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert again == dict.fromkeys(again, 0)
