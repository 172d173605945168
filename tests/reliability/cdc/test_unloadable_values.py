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

from pathlib import Path

import pytest

from ingestion.settings import OPS_CAPTURE_CDC, ConnectionSettings
from tests.integration.ingest_support import simulated_world
from tests.reliability.cdc.parity import assert_raw_equals_source, ops_transaction, rows_loaded

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

SCALE = 0.05


def test_an_infinite_timestamp_does_not_stop_the_capture(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with simulated_world(server_settings, tmp_path, SCALE) as world:
        rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        ops_transaction(
            world.settings,
            "update ops.deliveries set delivered_at = 'infinity' where delivery_id ="
            " (select min(delivery_id) from ops.deliveries where shipped_at is not null)",
            "update ops.customers set city = 'Elsewhere' where customer_id ="
            " (select min(customer_id) from ops.customers)",
        )
        loaded = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        assert loaded["customers"] == 1
        assert_raw_equals_source(world.settings, ["customers"])
        again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        assert again == dict.fromkeys(again, 0)


def test_a_value_no_raw_type_holds_is_set_aside_and_the_capture_goes_on(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with simulated_world(server_settings, tmp_path, SCALE) as world:
        rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        ops_transaction(
            world.settings,
            "update ops.payments set amount = 'NaN' where payment_id ="
            " (select min(payment_id) from ops.payments)",
            "update ops.customers set city = 'Elsewhere' where customer_id ="
            " (select min(customer_id) from ops.customers)",
        )
        report = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
        assert report.ok, report.units
        payments = next(unit for unit in report.units if unit.table == "payments")
        assert (payments.rows_rejected, payments.balanced) == (1, True)
        assert_raw_equals_source(world.settings, ["customers"])
        reasons = world.query(
            "select reason from raw_ops.rejected_records where resource = 'payments'"
        )
        assert len(reasons) == 1 and "amount = 'NaN' does not fit numeric(12,2)" in reasons[0][0]
        again = rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
        assert again == dict.fromkeys(again, 0)
