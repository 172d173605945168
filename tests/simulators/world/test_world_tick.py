"""A tick moves statuses only along the contract's paths, stamps changes inside its window,
erases customers without losing their orders, and changes customers and the catalogue."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ingestion.simulators.world import tick
from tests.simulators.world.support import (
    DELIVERY_PATHS,
    ORDER_PATHS,
    PAYMENT_PATHS,
    World,
    WorldFactory,
    reachable,
)

pytestmark = pytest.mark.integration

TICK_DAYS = 10
WINDOW_START = "2026-01-01 00:00:00+00"
WINDOW_END = "2026-01-11 00:00:00+00"
TABLES = (
    "ops.customers",
    "ops.orders",
    "ops.order_items",
    "ops.payments",
    "ops.deliveries",
    "storefront.products",
    "storefront.marketplace_sales",
)


@dataclass(frozen=True)
class TickedWorld:
    """A world and snapshots of it taken before and after one 10-day tick."""

    world: World
    before: dict[str, dict[int, tuple]]
    after: dict[str, dict[int, tuple]]


def snapshot(world: World) -> dict[str, dict[int, tuple]]:
    """Statuses and stamps of orders, payments, deliveries and customers, by key."""
    queries = {
        "orders": "select order_id, status, customer_id, updated_at from ops.orders",
        "payments": "select order_id, status, updated_at from ops.payments",
        "deliveries": "select order_id, status, updated_at from ops.deliveries",
        "customers": (
            "select customer_id, email, country_code, city, address, updated_at from ops.customers"
        ),
        "products": "select product_id, price, is_deleted, updated_at from storefront.products",
    }
    return {name: {row[0]: row[1:] for row in world.query(sql)} for name, sql in queries.items()}


@pytest.fixture(scope="module")
def ticked(make_world: WorldFactory, tmp_path_factory: pytest.TempPathFactory) -> TickedWorld:
    world = make_world(seed=11, files=False)
    before = snapshot(world)
    tick(world.settings, TICK_DAYS, landing=world.landing)
    return TickedWorld(world, before, snapshot(world))


@pytest.mark.parametrize(
    ("table", "paths"),
    [("orders", ORDER_PATHS), ("payments", PAYMENT_PATHS), ("deliveries", DELIVERY_PATHS)],
)
def test_statuses_only_move_along_allowed_paths(
    ticked: TickedWorld, table: str, paths: dict
) -> None:
    before, after = ticked.before[table], ticked.after[table]
    moved = 0
    for key, row in after.items():
        old = before[key][0] if key in before else (None if None in paths else "pending")
        assert row[0] in reachable(paths, old), (table, key, old, row[0])
        moved += old != row[0]
    assert set(before) <= set(after)
    assert moved > 0


def test_changed_rows_are_stamped_inside_the_window(ticked: TickedWorld) -> None:
    for table in TABLES:
        ((outside,),) = ticked.world.query(
            f"select count(*) from {table} where updated_at >= %s",
            (WINDOW_END,),
        )
        assert outside == 0, table
    for name, rows in ticked.after.items():
        for key, row in rows.items():
            if key in ticked.before[name] and row != ticked.before[name][key]:
                stamp = row[-1].isoformat()
                assert "2026-01-01" <= stamp < "2026-01-11", (name, key, row)


def test_clock_and_tick_log_advance(ticked: TickedWorld) -> None:
    ((business_time, ticks),) = ticked.world.query(
        "select business_time = %s::timestamptz, ticks from sim.clock", (WINDOW_END,)
    )
    window = ticked.world.query("select window_start, window_end from sim.tick_log where tick = 1")

    assert (business_time, ticks) == (True, 1)
    assert len(window) == 1


def test_erasure_deletes_the_customer_and_keeps_their_orders(ticked: TickedWorld) -> None:
    erased = set(ticked.before["customers"]) - set(ticked.after["customers"])
    assert len(erased) >= 1
    orphaned = [order_id for order_id, row in ticked.before["orders"].items() if row[1] in erased]
    newly_unlinked = {
        order_id
        for order_id, row in ticked.after["orders"].items()
        if row[1] is None
        and order_id in ticked.before["orders"]
        and ticked.before["orders"][order_id][1] is not None
    }
    assert orphaned and newly_unlinked == set(orphaned)
    for order_id in orphaned:
        _, customer_id, updated_at = ticked.after["orders"][order_id]
        assert customer_id is None
        assert updated_at > ticked.before["orders"][order_id][2]
        assert WINDOW_START <= updated_at.isoformat(" ") < WINDOW_END


def test_new_orders_customers_and_sales_arrive_in_the_window(ticked: TickedWorld) -> None:
    ((orders, customers, sales, items_without_order),) = ticked.world.query(
        "select (select count(*) from ops.orders where ordered_at >= %(s)s), "
        "(select count(*) from ops.customers where registered_at >= %(s)s), "
        "(select count(*) from storefront.marketplace_sales where sold_at >= %(s)s), "
        "(select count(*) from ops.orders as o where ordered_at >= %(s)s and not exists "
        "(select 1 from ops.order_items as i where i.order_id = o.order_id))",
        {"s": WINDOW_START},  # type: ignore[arg-type]
    )

    assert orders > 0 and sales >= 0 and customers >= 0
    assert items_without_order == 0


def test_some_customers_and_products_change(ticked: TickedWorld) -> None:
    before, after = ticked.before, ticked.after
    moved_or_renamed = [
        key
        for key, row in after["customers"].items()
        if key in before["customers"] and row[:4] != before["customers"][key][:4]
    ]
    repriced = [
        key for key, row in after["products"].items() if row[0] != before["products"][key][0]
    ]

    assert moved_or_renamed
    assert repriced
