"""Moving the world forward: ``tick(settings, days)`` advances the business clock N days.

Within the window ``[clock, clock + days)`` it adds customers, orders (with lines, payments
and deliveries), marketplace sales and reviews; moves orders along their fixed lifecycle;
moves some customers or changes their e-mail; changes some prices and delists the odd
product; and erases a few customers (hard delete, their orders kept with no customer).
Every changed row's ``updated_at`` falls inside the window. All draws come from generators
keyed on (seed, tick number), so the same history of ticks always gives the same world.
The changes to existing customers and products are in ``tick_changes``, the orders'
lifecycle in ``tick_lifecycle``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion.settings import ConnectionSettings
from ingestion.simulators.world import tables
from ingestion.simulators.world.build import StepCallback
from ingestion.simulators.world.bulk_io import Cursor, read_frame
from ingestion.simulators.world.customers import generate_customers
from ingestion.simulators.world.landing import FileFaults, LandingDrop, write_landing_files
from ingestion.simulators.world.marketplace import generate_sales
from ingestion.simulators.world.name_pools import name_pools
from ingestion.simulators.world.order_lifecycle import schedule_orders
from ingestion.simulators.world.orders import orders_with_status, place_orders
from ingestion.simulators.world.randomness import Stream, day_weights, sample_times
from ingestion.simulators.world.reference_data import (
    BASE_CUSTOMERS,
    BASE_ORDERS,
    BUSINESS_YEAR_END,
    BUSINESS_YEAR_START,
    DAY,
    MARKETPLACE_SHARE,
)
from ingestion.simulators.world.sim_state import (
    Clock,
    log_window,
    ops_transaction,
    require_clock,
    take_ids,
    write_clock,
)
from ingestion.simulators.world.tick_changes import (
    change_catalogue,
    change_customers,
    erase_customers,
)
from ingestion.simulators.world.tick_lifecycle import reveal_lifecycle
from ingestion.simulators.world.tick_window import TickWindow
from ingestion.simulators.world.timestamps import to_datetime

log = logging.getLogger(__name__)

TICK_STEPS = (
    "read the world",
    "customers",
    "catalogue",
    "orders",
    "order lifecycle",
    "marketplace sales",
    "erasure requests",
    "clock",
    "landing files",
)
NEW_CUSTOMERS_PER_YEAR = 0.35 * BASE_CUSTOMERS


@dataclass(frozen=True)
class TickSummary:
    """What one tick did."""

    tick: int
    window_start: str
    window_end: str
    new_customers: int
    changed_customers: int
    erased_customers: int
    new_orders: int
    order_status_changes: int
    new_payments: int
    payment_changes: int
    new_deliveries: int
    delivery_changes: int
    price_changes: int
    delisted_products: int
    new_reviews: int
    marketplace_sales: int
    files: LandingDrop | None


def expected_orders(start: int, end: int, scale: float) -> float:
    """Orders expected in ``[start, end)``: the 2025 volume spread by the same seasonality."""
    year = day_weights(np.arange(BUSINESS_YEAR_START, BUSINESS_YEAR_END, DAY, dtype=np.int64))
    window = day_weights(np.arange(start - start % DAY, end, DAY, dtype=np.int64))
    share = window.sum() / year.sum() * ((end - start) / DAY) / max(len(window), 1)
    return BASE_ORDERS * scale * share


def tick(
    settings: ConnectionSettings,
    days: int = 1,
    *,
    write_files: bool = True,
    faults: FileFaults | None = None,
    landing: Path | None = None,
    on_step: StepCallback | None = None,
) -> TickSummary:
    """Advance the business clock ``days`` days and write the changes of that window.

    With ``write_files`` (the default) the window's landing files are written afterwards
    (with ``faults`` if given) under ``landing`` (default ``ingestion.settings.landing_dir()``).
    """
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    step = on_step or (lambda _: None)
    with ops_transaction(settings) as cur:
        step(TICK_STEPS[0])
        clock = require_clock(cur)
        window = TickWindow(
            seed=clock.seed,
            scale=clock.scale,
            tick=clock.ticks + 1,
            start=clock.business_time,
            end=clock.business_time + days * DAY,
        )
        counts = _advance(cur, window, step)
        step(TICK_STEPS[7])
        write_clock(
            cur,
            Clock(
                business_time=window.end,
                seed=clock.seed,
                scale=clock.scale,
                ticks=window.tick,
            ),
        )
        log_window(cur, window.tick, window.start, window.end)
    drop = None
    if write_files:
        step(TICK_STEPS[8])
        drop = write_landing_files(settings, faults=faults, landing=landing)
    summary = TickSummary(
        tick=window.tick,
        window_start=to_datetime(window.start).isoformat(),
        window_end=to_datetime(window.end).isoformat(),
        files=drop,
        **counts,
    )
    log.info("tick %d done: %s", window.tick, summary)
    return summary


def _advance(cur: Cursor, window: TickWindow, step: StepCallback) -> dict[str, int]:
    customers = read_frame(
        cur,
        "select customer_id, email, country_code, "
        "extract(epoch from registered_at)::bigint as registered_at "
        "from ops.customers order by customer_id",
        dtypes={"customer_id": "int64", "registered_at": "int64", "email": object},
    )
    products = read_frame(
        cur,
        "select product_id, sku, price::float8 as price, is_deleted::int as is_deleted "
        "from storefront.products order by product_id",
        dtypes={"product_id": "int64", "price": "float64", "is_deleted": bool},
    )
    pools = name_pools(window.seed)
    days = (window.end - window.start) / DAY

    step(TICK_STEPS[1])
    changes = change_customers(cur, window, pools, customers, days)
    rng = window.rng(Stream.CUSTOMERS)
    count = int(rng.poisson(NEW_CUSTOMERS_PER_YEAR / 365 * window.scale * days))
    new_customers = generate_customers(
        rng,
        pools,
        take_ids(cur, "customer", count),
        sample_times(rng, count, window.start, window.end),
    )
    tables.copy_rows(cur, tables.CUSTOMERS, new_customers)

    step(TICK_STEPS[2])
    catalogue = change_catalogue(cur, window, pools, products, days)

    step(TICK_STEPS[3])
    rng = window.rng(Stream.ORDERS)
    count = int(rng.poisson(expected_orders(window.start, window.end, window.scale)))
    if catalogue.sellable.empty or (customers.empty and new_customers.empty):
        count = 0
    ordered_at = sample_times(rng, count, window.start, window.end)
    buyers = pd.concat(
        [
            customers[["customer_id", "registered_at", "country_code"]],
            new_customers[["customer_id", "registered_at", "country_code"]],
        ],
        ignore_index=True,
    )
    placed = place_orders(
        rng,
        window.seed,
        order_ids=take_ids(cur, "order", count),
        ordered_at=ordered_at,
        customers=buyers,
        products=catalogue.sellable,
        first_item_id=0,
        moves=changes.moves,
        price_changes=catalogue.price_changes,
    )
    items = placed.items.copy()
    items["order_item_id"] = take_ids(cur, "order_item", len(items))
    new_schedule = schedule_orders(
        window.seed,
        placed.orders["order_id"].to_numpy(),
        ordered_at,
        placed.orders["currency"].to_numpy(),
    )
    new_orders = orders_with_status(placed.orders, new_schedule, window.end)
    tables.copy_rows(cur, tables.ORDERS, new_orders)
    tables.copy_rows(cur, tables.ORDER_ITEMS, items)

    step(TICK_STEPS[4])
    lifecycle = reveal_lifecycle(cur, window, new_orders, items, new_schedule)

    step(TICK_STEPS[5])
    rng = window.rng(Stream.MARKETPLACE)
    count = int(
        rng.poisson(expected_orders(window.start, window.end, window.scale) * MARKETPLACE_SHARE)
    )
    if catalogue.sellable.empty:
        count = 0
    sales = generate_sales(
        rng,
        window.seed,
        sold_at=sample_times(rng, count, window.start, window.end),
        products=catalogue.sellable,
        reserve_ids=lambda name, n: take_ids(cur, name, n),
        price_changes=catalogue.price_changes,
    )
    tables.copy_rows(cur, tables.MARKETPLACE_SALES, sales)

    step(TICK_STEPS[6])
    protected = set(new_orders["customer_id"].tolist()) | set(changes.changed_ids.tolist())
    erased = erase_customers(cur, window, customers["customer_id"].to_numpy(), protected)
    return {
        "new_customers": len(new_customers),
        "changed_customers": len(changes.changed_ids),
        "erased_customers": erased,
        "new_orders": len(new_orders),
        "price_changes": len(catalogue.price_changes),
        "delisted_products": catalogue.delisted,
        "new_reviews": catalogue.reviews,
        "marketplace_sales": len(sales),
        **lifecycle,
    }
