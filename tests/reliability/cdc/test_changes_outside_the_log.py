"""Source values the log never carries as row changes still reach raw.

Two ways an operations database changes values with no row change in its log:

- DDL that rewrites a table: ``alter table ... alter column ... type ... using <expression>``
  writes every row anew, and Postgres does not decode a rewrite as row changes. The capture
  records each table's column types and reads a table whole again when one of its columns
  changed type (a type change is where such a rewrite happens);
- a stored generated column (``generated always as (...) stored``): ``pgoutput`` leaves
  generated columns out unless the publication sets ``publish_generated_columns = stored``
  (PostgreSQL 18), which the capture does; the initial copy and the drift rules' backfill
  read them anyway.

Each test damages its own table only.
"""

from __future__ import annotations

import pytest

from ingestion.settings import OPS_CAPTURE_CDC
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.parity import assert_raw_equals_source, ops_transaction, rows_loaded

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def test_values_rewritten_by_an_alter_column_reach_raw(world: IngestWorld) -> None:
    ops_transaction(
        world.settings,
        "alter table ops.customers alter column city type varchar(200) using upper(city)",
    )
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings, ["customers"])


def test_a_stored_generated_column_keeps_its_value_through_the_log(world: IngestWorld) -> None:
    ops_transaction(
        world.settings,
        "alter table ops.order_items add column line_total numeric(14, 2)"
        " generated always as (quantity * unit_price) stored",
    )
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings, ["order_items"])  # the drift rules filled it
    ops_transaction(
        world.settings,
        "update ops.order_items set quantity = quantity + 1 where order_item_id ="
        " (select min(order_item_id) from ops.order_items)",
    )
    rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))
    assert_raw_equals_source(world.settings, ["order_items"])
