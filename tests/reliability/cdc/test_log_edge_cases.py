"""The log's awkward shapes: after the next run, raw equals the source row by row.

One small world, copied once, goes through: one row changed fifty times in one transaction;
a key deleted and inserted again (in one transaction, across two, across two runs); a key
changed by an update (the old one must go); a row inserted and deleted between two runs; a
transaction open while a run reads the log and committed after it; a TRUNCATE (alone, then
with rows written after it in the same transaction); a large TOASTed value that later updates
leave unchanged, which the log then does not send again. Each test leaves raw equal to the
source, so they do not depend on their order.
"""

from __future__ import annotations

from contextlib import closing

import pytest

from ingestion.database.connection import connect
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.parity import (
    assert_raw_equals_source,
    differences,
    first_key,
    ingest,
    ops_transaction,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

NOTES_CHARACTERS = 20_000
NOTES = (
    "(select string_agg(md5(customer_id::text || '-' || g), '' order by g)"
    f" from generate_series(1, {NOTES_CHARACTERS // 32}) as g)"
)
"""20 kB of md5 digests: too large to stay in the row, too random to compress away, so the
server keeps it out of line (TOAST) and an update of another column does not log it again."""


def test_a_row_changed_fifty_times_in_one_transaction(world: IngestWorld) -> None:
    customer = first_key(world, "customers", "customer_id")
    ops_transaction(
        world.settings,
        "do $$ begin for i in 1..50 loop update ops.customers set city = 'City ' || i,"
        f" updated_at = now() where customer_id = {customer}; end loop; end $$",
    )
    loaded = ingest(world)
    assert loaded["customers"] == 1  # folded to its last change
    assert_raw_equals_source(world.settings)
    assert world.query(
        f"select city, _cdc_op from raw_ops.customers where customer_id = {customer}"
    ) == [("City 50", "update")]


REINSERT = (
    "insert into ops.deliveries select delivery_id, order_id,"
    " case when carrier = 'DHL' then 'UPS' else 'DHL' end, status, shipped_at, delivered_at,"
    " created_at, now() from public.cdc_gone where delivery_id = {key}"
)
SAVE_AND_DELETE = (
    "insert into public.cdc_gone select * from ops.deliveries where delivery_id = {key}",
    "delete from ops.deliveries where delivery_id = {key}",
)


def test_a_key_deleted_and_inserted_again(world: IngestWorld) -> None:
    in_one, in_two, in_two_runs = (
        first_key(world, "deliveries", "delivery_id", n) for n in range(3)
    )
    ops_transaction(
        world.settings,
        "create table if not exists public.cdc_gone (like ops.deliveries)",
        *(s.format(key=in_one) for s in SAVE_AND_DELETE),
        REINSERT.format(key=in_one),
    )
    ops_transaction(world.settings, *(s.format(key=in_two) for s in SAVE_AND_DELETE))
    ops_transaction(world.settings, REINSERT.format(key=in_two))
    ops_transaction(world.settings, *(s.format(key=in_two_runs) for s in SAVE_AND_DELETE))
    ingest(world)
    assert_raw_equals_source(world.settings)
    assert (
        world.scalar(f"select count(*) from raw_ops.deliveries where delivery_id = {in_two_runs}")
        == 0
    )
    ops_transaction(world.settings, REINSERT.format(key=in_two_runs))
    ingest(world)
    assert_raw_equals_source(world.settings)


def test_a_key_changed_by_an_update(world: IngestWorld) -> None:
    delivery = first_key(world, "deliveries", "delivery_id", 5)
    moved = 30_000_000 + delivery
    ops_transaction(
        world.settings,
        f"update ops.deliveries set delivery_id = {moved} where delivery_id = {delivery}",
    )
    ingest(world)
    assert_raw_equals_source(world.settings)
    assert world.query(
        f"select delivery_id from raw_ops.deliveries where delivery_id in ({delivery}, {moved})"
    ) == [(moved,)]


def test_a_row_inserted_and_deleted_between_two_runs(world: IngestWorld) -> None:
    order = first_key(world, "orders", "order_id")
    brief = 10_000_000
    ops_transaction(
        world.settings,
        f"insert into ops.payments select {brief}, order_id, method, status, amount, currency,"
        f" paid_at, created_at, now() from ops.payments where order_id = {order} limit 1",
    )
    ops_transaction(world.settings, f"delete from ops.payments where payment_id = {brief}")
    ops_transaction(
        world.settings,
        f"insert into ops.payments select {brief + 1}, order_id, method, status, amount,"
        f" currency, paid_at, created_at, now() from ops.payments where order_id = {order}"
        " limit 1",
        f"delete from ops.payments where payment_id = {brief + 1}",
    )
    ingest(world)
    assert_raw_equals_source(world.settings)
    assert world.scalar(f"select count(*) from raw_ops.payments where payment_id >= {brief}") == 0


def test_a_transaction_open_across_a_run_lands_once_on_the_next(world: IngestWorld) -> None:
    orders = [first_key(world, "orders", "order_id", n) for n in (5, 6)]
    with closing(connect(world.settings, world.settings.ops_database)) as open_transaction:
        with open_transaction.cursor() as cursor:
            cursor.execute(
                "update ops.orders set channel = case when channel = 'web' then 'app'"
                " else 'web' end, updated_at = now() where order_id = any(%s)",
                (orders,),
            )
        before_commit = ingest(world)
        assert before_commit["orders"] == 0
        assert len(differences(world.settings, "orders")) == 0  # not committed: not visible
        open_transaction.commit()
    assert len(differences(world.settings, "orders")) == len(orders)
    assert ingest(world)["orders"] == len(orders)
    assert_raw_equals_source(world.settings)
    assert ingest(world) == dict.fromkeys(before_commit, 0)


def test_truncate_then_rows_written_after_a_truncate(world: IngestWorld) -> None:
    ops_transaction(
        world.settings,
        "create table public.cdc_deliveries as select * from ops.deliveries",
        "truncate ops.deliveries",
    )
    ingest(world)
    assert world.scalar("select count(*) from raw_ops.deliveries") == 0
    assert_raw_equals_source(world.settings)
    ops_transaction(
        world.settings, "insert into ops.deliveries select * from public.cdc_deliveries"
    )
    ingest(world)
    assert_raw_equals_source(world.settings)
    ops_transaction(
        world.settings,
        "truncate ops.deliveries",
        "insert into ops.deliveries select * from public.cdc_deliveries where delivery_id % 2 = 0",
    )
    ingest(world)
    assert_raw_equals_source(world.settings)
    assert world.scalar("select count(*) from raw_ops.deliveries") == world.scalar(
        "select count(*) from ops.deliveries", ops=True
    )


def test_a_toasted_value_an_update_leaves_unchanged_stays_in_raw(world: IngestWorld) -> None:
    customers = [first_key(world, "customers", "customer_id", n) for n in (10, 11, 12)]
    keys = ", ".join(map(str, customers))
    ops_transaction(
        world.settings,
        "alter table ops.customers add column if not exists notes text",
        f"update ops.customers set notes = {NOTES} where customer_id in ({keys})",
    )
    ingest(world)
    assert_raw_equals_source(world.settings)
    ops_transaction(
        world.settings,
        f"update ops.customers set city = city || ' (toast)' where customer_id in ({keys})",
    )
    ops_transaction(
        world.settings,
        f"update ops.customers set phone = '+00 toast' where customer_id = {customers[0]}",
    )
    assert ingest(world)["customers"] == len(customers)
    assert_raw_equals_source(world.settings)
    lengths = world.query(
        f"select length(notes) from raw_ops.customers where customer_id in ({keys})"
    )
    assert lengths == [(NOTES_CHARACTERS,)] * len(customers)


def move_customer(customer: int, to: int) -> tuple[str, str]:
    """Statements giving a customer a new key (its orders let go of it first, as on erasure)."""
    return (
        f"update ops.orders set customer_id = null where customer_id = {customer}",
        f"update ops.customers set customer_id = {to} where customer_id = {customer}",
    )


def test_a_toasted_value_survives_a_change_of_its_key(world: IngestWorld) -> None:
    kept, renamed_twice, written_then_moved = (
        first_key(world, "customers", "customer_id", n) for n in (20, 21, 22)
    )
    ops_transaction(
        world.settings,
        "alter table ops.customers add column if not exists notes text",
        f"update ops.customers set notes = {NOTES} where customer_id in ({kept}, {renamed_twice})",
    )
    ingest(world)
    moved = 40_000_000
    ops_transaction(world.settings, *move_customer(kept, moved + kept))
    ops_transaction(world.settings, *move_customer(renamed_twice, moved + renamed_twice))
    ops_transaction(
        world.settings,
        f"update ops.customers set city = 'Moved' where customer_id = {moved + renamed_twice}",
        *move_customer(moved + renamed_twice, 2 * moved + renamed_twice),
    )
    ops_transaction(
        world.settings,
        f"update ops.customers set notes = {NOTES} where customer_id = {written_then_moved}",
    )
    ops_transaction(world.settings, *move_customer(written_then_moved, moved + written_then_moved))
    ingest(world)
    assert_raw_equals_source(world.settings)
    lengths = world.query(
        f"select length(notes) from raw_ops.customers where customer_id in"
        f" ({moved + kept}, {2 * moved + renamed_twice}, {moved + written_then_moved})"
    )
    assert lengths == [(NOTES_CHARACTERS,)] * 3
