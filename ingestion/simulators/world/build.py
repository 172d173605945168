"""The initial state of the simulated world: business year 2025, clock at 2026-01-01."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world import tables
from ingestion.simulators.world.catalogue import generate_catalogue
from ingestion.simulators.world.customers import generate_customers
from ingestion.simulators.world.fulfilment import payment_rows, with_ids
from ingestion.simulators.world.marketplace import generate_sales
from ingestion.simulators.world.name_pools import name_pools
from ingestion.simulators.world.order_lifecycle import (
    delivery_states,
    payment_states,
    schedule_orders,
)
from ingestion.simulators.world.orders import order_totals, orders_with_status, place_orders
from ingestion.simulators.world.randomness import Stream, generator, sample_times
from ingestion.simulators.world.reference_data import (
    BASE_CUSTOMERS,
    BASE_ORDERS,
    BASE_PRODUCTS,
    BUSINESS_YEAR_END,
    BUSINESS_YEAR_START,
    CATALOGUE_START,
    FIRST_REGISTRATION,
    MARKETPLACE_SHARE,
)
from ingestion.simulators.world.sim_state import (
    Clock,
    WorldExistsError,
    analyze_world,
    apply_schema,
    drop_world,
    existing_data_tables,
    log_window,
    take_ids,
    use_utc,
    write_clock,
)

log = logging.getLogger(__name__)

StepCallback = Callable[[str], None]
"""Told the name of each step as it starts (for progress display)."""

BUILD_STEPS = (
    "schema",
    "catalogue",
    "customers",
    "orders",
    "payments and deliveries",
    "marketplace sales",
    "clock",
)
SHARE_REGISTERED_BEFORE_2025 = 0.7


@dataclass(frozen=True)
class WorldSummary:
    """Row counts of a freshly built world."""

    seed: int
    scale: float
    products: int
    reviews: int
    customers: int
    orders: int
    order_items: int
    payments: int
    deliveries: int
    marketplace_sales: int


def scaled(base: int, scale: float) -> int:
    """``base x scale``, rounded, at least 1."""
    return max(1, round(base * scale))


def _noop(_: str) -> None:
    """A step callback that shows nothing."""


def build_world(
    settings: ConnectionSettings,
    seed: int = 42,
    scale: float = 1.0,
    *,
    reset: bool = False,
    on_step: StepCallback | None = None,
) -> WorldSummary:
    """Create the simulated systems' schemas and fill them with business year 2025.

    Products (500 x scale) with tags, images and reviews; customers (1,000 x scale); orders
    (5,000 x scale) with lines, payments and deliveries as they stand on 2026-01-01;
    marketplace sales (about 10% of the orders). The clock is set to 2026-01-01T00:00:00Z.
    Raises :class:`WorldExistsError` if the operations DB already holds data, unless
    ``reset`` (which drops the ``ops``, ``storefront`` and ``sim`` schemas first).
    """
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    step = on_step or _noop
    conn = connect(settings, settings.ops_database)
    try:
        with conn, conn.cursor() as cur:
            use_utc(cur)
            step(BUILD_STEPS[0])
            filled = existing_data_tables(cur)
            if filled and not reset:
                raise WorldExistsError(
                    f"The operations DB '{settings.ops_database}' already holds data "
                    f"({', '.join(filled)}). Use --reset to drop it and build again."
                )
            if reset:
                drop_world(cur)
            apply_schema(cur)
            summary = _fill(cur, seed, scale, step)
        with conn.cursor() as cur:
            conn.autocommit = True
            analyze_world(cur)
    finally:
        conn.close()
    log.info("built the world: %s", summary)
    return summary


def _fill(cur: tables.Cursor, seed: int, scale: float, step: StepCallback) -> WorldSummary:
    pools = name_pools(seed)
    now = BUSINESS_YEAR_END

    step(BUILD_STEPS[1])
    product_ids = take_ids(cur, "product", scaled(BASE_PRODUCTS, scale))
    catalogue = generate_catalogue(
        generator(seed, 0, Stream.CATALOGUE),
        pools,
        product_ids,
        CATALOGUE_START,
        BUSINESS_YEAR_START,
        now,
    )
    take_ids(cur, "review", len(catalogue.reviews))
    tables.copy_rows(cur, tables.PRODUCTS, catalogue.products)
    tables.copy_rows(cur, tables.PRODUCT_TAGS, catalogue.tags)
    tables.copy_rows(cur, tables.PRODUCT_IMAGES, catalogue.images)
    tables.copy_rows(cur, tables.PRODUCT_REVIEWS, catalogue.reviews)

    step(BUILD_STEPS[2])
    rng = generator(seed, 0, Stream.CUSTOMERS)
    customer_count = scaled(BASE_CUSTOMERS, scale)
    early = max(1, round(customer_count * SHARE_REGISTERED_BEFORE_2025))
    registered_at = np.sort(
        np.concatenate(
            [
                sample_times(rng, early, FIRST_REGISTRATION, BUSINESS_YEAR_START),
                sample_times(rng, customer_count - early, BUSINESS_YEAR_START, now),
            ]
        )
    )
    customer_ids = take_ids(cur, "customer", customer_count)
    customers = generate_customers(rng, pools, customer_ids, registered_at)
    tables.copy_rows(cur, tables.CUSTOMERS, customers)

    step(BUILD_STEPS[3])
    rng = generator(seed, 0, Stream.ORDERS)
    order_count = scaled(BASE_ORDERS, scale)
    ordered_at = sample_times(rng, order_count, BUSINESS_YEAR_START, now)
    order_ids = take_ids(cur, "order", order_count)
    lines_start = 1
    placed = place_orders(
        rng,
        seed,
        order_ids=order_ids,
        ordered_at=ordered_at,
        customers=customers[["customer_id", "registered_at", "country_code"]],
        products=catalogue.products[["product_id", "sku", "price"]],
        first_item_id=lines_start,
    )
    take_ids(cur, "order_item", len(placed.items))
    schedule = schedule_orders(seed, order_ids, ordered_at, placed.orders["currency"].to_numpy())
    orders = orders_with_status(placed.orders, schedule, now)
    tables.copy_rows(cur, tables.ORDERS, orders)
    tables.copy_rows(cur, tables.ORDER_ITEMS, placed.items)

    step(BUILD_STEPS[4])
    payments = payment_rows(payment_states(schedule, now), orders, order_totals(placed.items))
    payments = with_ids(payments, "payment_id", take_ids(cur, "payment", len(payments)))
    deliveries = delivery_states(schedule, now)
    deliveries = with_ids(deliveries, "delivery_id", take_ids(cur, "delivery", len(deliveries)))
    tables.copy_rows(cur, tables.PAYMENTS, payments)
    tables.copy_rows(cur, tables.DELIVERIES, deliveries)

    step(BUILD_STEPS[5])
    rng = generator(seed, 0, Stream.MARKETPLACE)
    sales = generate_sales(
        rng,
        seed,
        sold_at=sample_times(
            rng, scaled(round(BASE_ORDERS * MARKETPLACE_SHARE), scale), BUSINESS_YEAR_START, now
        ),
        products=catalogue.products[["product_id", "sku", "price"]],
        reserve_ids=lambda name, count: take_ids(cur, name, count),
    )
    tables.copy_rows(cur, tables.MARKETPLACE_SALES, sales)

    step(BUILD_STEPS[6])
    write_clock(cur, Clock(business_time=now, seed=seed, scale=scale, ticks=0))
    log_window(cur, 0, BUSINESS_YEAR_START, now)
    return WorldSummary(
        seed=seed,
        scale=scale,
        products=len(catalogue.products),
        reviews=len(catalogue.reviews),
        customers=len(customers),
        orders=len(orders),
        order_items=len(placed.items),
        payments=len(payments),
        deliveries=len(deliveries),
        marketplace_sales=len(sales),
    )
