"""Erasure reaches history: every table and view of every schema of the warehouse is searched
for the erased people's names, e-mails, phones and addresses, taken from the order system
before the erasure, and revenue must not have moved. A further run with a simulated week (its
own erasures) must scrub those too and add no version for the first ones; a customers table
loaded half must not erase history."""

from __future__ import annotations

import pytest

from ingestion.settings import Settings
from ingestion.sources.ops.helpers import tombstone_row
from ingestion.transform.dbt_runner import DbtError, run_dbt
from tests.reliability.erasure.erasure_world import (
    ERASED_HERE,
    PERSONAL,
    REFUSED_REASON,
    ErasureWorld,
    history_rows,
    people,
    pii_hits,
    run_pipeline,
)
from tests.worlds import TICK_DAYS

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def test_erasure_leaves_no_personal_data_in_any_table_or_history(world: ErasureWorld) -> None:
    assert len(world.erased) == ERASED_HERE
    # the search finds what it looks for: customers still here show up where they live
    still_here = people(world, "phone is not null order by customer_id limit 2")
    found = pii_hits(world, still_here)
    assert {
        "raw_ops.customers",
        "raw_ops.customers_changes",
        "staging.stg_ops__customer_versions",
        "marts.dim_customers",
    } <= set(found), found

    assert pii_hits(world, world.erased) == {}
    # history keeps its shape: every version stays, closed, without a personal value
    erased_ids = [person.customer_id for person in world.erased]
    rows = world.query(
        "select count(*), count(*) filter (where valid_to is null), "
        f"count(*) filter (where coalesce({', '.join(PERSONAL)}) is not null) "
        "from staging.stg_ops__customer_versions where customer_id = any(%s)",
        erased_ids,
    )
    assert rows[0][0] >= ERASED_HERE
    assert rows[0][1:] == (0, 0)
    # every change of theirs in the log too (the versions keep only one state per updated_at)
    logged = world.query(
        "select count(*), count(*) filter (where _cdc_op = 'delete'), "
        f"count(*) filter (where coalesce({', '.join(PERSONAL)}) is not null) "
        "from raw_ops.customers_changes where customer_id = any(%s)",
        erased_ids,
    )
    assert logged[0][0] > logged[0][1] >= ERASED_HERE  # their states and their deletes
    assert logged[0][2] == 0
    in_dimension = world.query(
        "select bool_and(is_erased), count(*) from marts.dim_customers where customer_id = any(%s)",
        [person.customer_id for person in world.erased],
    )
    assert in_dimension[0] == (True, world.history_rows)
    # a rejected record that carried one of them stays, without its payload
    rejected = world.query(
        "select count(*) from raw_ops.rejected_records where reason = %s and raw_payload is null",
        REFUSED_REASON,
    )
    assert rejected[0][0] == 1


def test_revenue_is_unchanged_by_the_erasure(world: ErasureWorld) -> None:
    assert world.revenue_before["fct_sales"] > 0
    assert world.revenue_after == pytest.approx(world.revenue_before, abs=0.005)
    # the erased people's orders stay, with the same amounts, without a customer
    assert world.erased_orders and sum(world.erased_orders.values()) > 0
    rows = world.query(
        "select order_id, net_revenue_usd, customer_id from marts.fct_orders "
        "where order_id = any(%s)",
        list(world.erased_orders),
    )
    assert {order_id: float(amount) for order_id, amount, _ in rows} == world.erased_orders
    assert {customer_id for _, _, customer_id in rows} == {None}


def test_tombstone_rows_carry_only_the_key() -> None:
    row = {
        "customer_id": 7,
        "first_name": "Ann",
        "email": "ann@example.com",
        "phone": "+44 1",
        "registered_at": "2025-01-01",
        "_dlt_id": "x",
    }
    kinds = {
        "customer_id": (False, False),
        "first_name": (True, False),
        "email": (True, False),
        "phone": (True, True),
        "registered_at": (False, False),
    }
    assert tombstone_row(row, "customer_id", kinds) == {
        "customer_id": 7,
        "first_name": "",
        "email": "",
        "phone": None,
        "registered_at": "2025-01-01",
        "_deleted_in_source": True,
    }


def test_a_simulated_week_with_erasures_scrubs_them_and_adds_no_version(
    world: ErasureWorld,
) -> None:
    before = people(world, "true")
    run_pipeline("--tick", TICK_DAYS)
    remaining = {row[0] for row in world.ops("select customer_id from ops.customers")}
    erased_by_tick = [person for person in before if person.customer_id not in remaining]
    assert erased_by_tick, "the simulated week erases at least one customer"
    assert pii_hits(world, erased_by_tick + world.erased) == {}
    assert history_rows(world, world.erased) == world.history_rows


def test_a_mass_disappearance_is_refused_and_rolled_back(world: ErasureWorld) -> None:
    """A half-loaded customers table must not erase history: the versions model fails
    instead, before its pre-hook touched the change log."""
    world.query("create table raw_ops.customers_kept as select * from raw_ops.customers")
    world.query("delete from raw_ops.customers where customer_id % 4 = 0")
    with_personal = "select count(*) from raw_ops.customers_changes where email is not null"
    before = world.query(with_personal)[0][0]
    try:
        with pytest.raises(DbtError, match="erasure_max_share"):
            run_dbt(
                ["run", "-s", "stg_ops__customer_versions"],
                world.settings,
                Settings.from_environment(),
                stream=False,
            )
        assert world.query(with_personal)[0][0] == before
        # the vanished customers keep their personal data and their current versions
        still_current = world.query(
            "select count(*) from staging.stg_ops__customer_versions as v "
            "where v.valid_to is null and v.email is not null and not exists "
            "(select 1 from raw_ops.customers as c where c.customer_id = v.customer_id)"
        )
        assert still_current[0][0] > 0
    finally:
        world.query(
            "truncate raw_ops.customers; "
            "insert into raw_ops.customers select * from raw_ops.customers_kept; "
            "drop table raw_ops.customers_kept"
        )
