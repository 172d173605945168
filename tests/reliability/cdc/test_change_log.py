"""Every change of a customer reaches its change log (``raw_ops.customers_changes``), once.

The log reader logs each change it reads: two moves between runs, many changes in one
transaction, an insert and a delete between runs, a key deleted and inserted again, a key
changed by an update. After each run the last change logged per customer is the source's row
(or a delete), and a run with nothing new logs nothing. The cursor reader logs the states it
sees: a sample (one state per run), said in docs/ingestion.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.settings import OPS_CAPTURE_CURSOR, ConnectionSettings
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.reliability.cdc.parity import (
    WORLD_SCALE,
    assert_raw_equals_source,
    change_log_differences,
    first_key,
    ingest,
    ops_transaction,
    rows_loaded,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def logged(world: IngestWorld, customer: int) -> list[tuple[str, str | None]]:
    """The customer's changes in the change log, oldest first: (kind, city)."""
    return [
        (str(op), city)
        for op, city in world.query(
            "select _cdc_op, city from raw_ops.customers_changes"
            f" where customer_id = {customer}"
            " order by _changed_at, coalesce(_cdc_lsn, 0), _change_seq"
        )
    ]


def healed(world: IngestWorld) -> None:
    """Raw equals the source, the change log ends where the source is, and a run with
    nothing new logs nothing more."""
    assert_raw_equals_source(world.settings)
    assert change_log_differences(world.settings) == []
    before = world.scalar("select count(*) from raw_ops.customers_changes")
    ingest(world)
    assert world.scalar("select count(*) from raw_ops.customers_changes") == before


def test_the_initial_copy_logs_every_customer_once(world: IngestWorld) -> None:
    customers = world.scalar("select count(*) from ops.customers", ops=True)
    copied = world.scalar(
        "select count(distinct customer_id) from raw_ops.customers_changes"
        " where _cdc_op = 'snapshot'"
    )
    assert copied == customers
    healed(world)


def test_a_customer_moving_twice_between_runs_keeps_both_moves(world: IngestWorld) -> None:
    customer = first_key(world, "customers", "customer_id", offset=1)
    for city in ("Lyon", "Nantes"):  # two transactions, two business times
        ops_transaction(
            world.settings,
            f"update ops.customers set city = '{city}', updated_at = now()"
            f" where customer_id = {customer}",
        )
    ingest(world)
    changes = logged(world, customer)
    assert [op for op, _ in changes][-2:] == ["update", "update"]
    assert [city for _, city in changes][-2:] == ["Lyon", "Nantes"]
    assert changes[0][0] == "snapshot"
    stamps = world.scalar(
        "select count(distinct updated_at) from raw_ops.customers_changes"
        f" where customer_id = {customer}"
    )
    assert stamps == 3  # three versions: as copied, then each move
    healed(world)


def test_every_change_of_one_transaction_is_logged_in_order(world: IngestWorld) -> None:
    customer = first_key(world, "customers", "customer_id", offset=2)
    ops_transaction(
        world.settings,
        "do $$ begin for i in 1..20 loop update ops.customers set city = 'City ' || i"
        f" where customer_id = {customer}; end loop; end $$",
    )
    ingest(world)
    changes = logged(world, customer)[-20:]
    assert [city for _, city in changes] == [f"City {i}" for i in range(1, 21)]
    sequence = world.query(
        "select _change_seq from raw_ops.customers_changes"
        f" where customer_id = {customer} and _cdc_op = 'update' order by _change_seq"
    )
    assert [s for (s,) in sequence] == list(range(20))
    healed(world)


def test_a_customer_inserted_and_deleted_between_runs_is_logged(world: IngestWorld) -> None:
    new_id = int(world.scalar("select max(customer_id) + 1000 from ops.customers", ops=True))  # type: ignore[call-overload]
    ops_transaction(
        world.settings,
        "insert into ops.customers (customer_id, first_name, last_name, email, country_code,"
        " city, address, registered_at, created_at, updated_at)"
        f" select {new_id}, first_name, last_name, 'brief@example.com', country_code, city,"
        " address, registered_at, now(), now() from ops.customers order by customer_id limit 1",
    )
    ops_transaction(world.settings, f"delete from ops.customers where customer_id = {new_id}")
    ingest(world)
    assert [op for op, _ in logged(world, new_id)] == ["insert", "delete"]
    assert world.scalar(f"select count(*) from raw_ops.customers where customer_id = {new_id}") == 0
    healed(world)


def test_a_key_deleted_inserted_again_and_renumbered(world: IngestWorld) -> None:
    customer = first_key(world, "customers", "customer_id", offset=3)
    renumbered = int(world.scalar("select max(customer_id) + 2000 from ops.customers", ops=True))  # type: ignore[call-overload]
    ops_transaction(
        world.settings,
        "create temporary table kept as select * from ops.customers"
        f" where customer_id = {customer}",
        f"delete from ops.customers where customer_id = {customer}",  # orders let it go
        "insert into ops.customers select * from kept",
        f"update ops.customers set customer_id = {renumbered} where customer_id = {customer}",
    )
    ingest(world)
    assert [op for op, _ in logged(world, customer)][-3:] == ["delete", "insert", "delete"]
    assert [op for op, _ in logged(world, renumbered)] == ["update"]
    healed(world)


def test_the_cursor_reader_logs_the_states_it_sees(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with simulated_world(server_settings, tmp_path, WORLD_SCALE) as fresh:
        rows_loaded(fresh.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR))
        customer = first_key(fresh, "customers", "customer_id")
        gone = first_key(fresh, "customers", "customer_id", offset=1)
        for city in ("Lyon", "Nantes"):
            ops_transaction(
                fresh.settings,
                f"update ops.customers set city = '{city}', updated_at = now()"
                f" where customer_id = {customer}",
            )
        ops_transaction(fresh.settings, f"delete from ops.customers where customer_id = {gone}")
        rows_loaded(fresh.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR))
        # a sample: the state as first loaded, then the one the run saw (the first move is lost)
        assert logged(fresh, customer) == [
            ("seen", logged(fresh, customer)[0][1]),
            ("seen", "Nantes"),
        ]
        assert [op for op, _ in logged(fresh, gone)] == ["seen", "delete"]
        assert change_log_differences(fresh.settings) == []
        again = fresh.scalar("select count(*) from raw_ops.customers_changes")
        rows_loaded(fresh.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR))
        assert fresh.scalar("select count(*) from raw_ops.customers_changes") == again
