"""Moving the world forward: ``tick(settings, days)`` advances the business clock N days.

Within the window ``[clock, clock + days)`` it adds customers, orders (with lines, payments
and deliveries), marketplace sales and reviews; moves orders along their fixed lifecycle;
moves some customers or changes their e-mail; changes some prices and delists the odd
product; and erases a few customers (hard delete, their orders kept with no customer).
Every changed row's ``updated_at`` falls inside the window. All draws come from generators
keyed on (seed, tick number), so the same history of ticks always gives the same world.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world import tables
from ingestion.simulators.world.build import StepCallback
from ingestion.simulators.world.bulk_io import Cursor, copy_frame, read_frame
from ingestion.simulators.world.catalogue import generate_reviews
from ingestion.simulators.world.customers import changed_emails, generate_customers, relocations
from ingestion.simulators.world.fulfilment import payment_rows, with_ids
from ingestion.simulators.world.landing import FileFaults, LandingDrop, write_landing_files
from ingestion.simulators.world.marketplace import generate_sales
from ingestion.simulators.world.name_pools import NamePools, name_pools
from ingestion.simulators.world.order_lifecycle import (
    LIFECYCLE_HORIZON,
    OrderSchedule,
    delivery_states,
    order_states,
    payment_states,
    schedule_orders,
)
from ingestion.simulators.world.orders import (
    order_totals,
    orders_with_status,
    place_orders,
    popularity,
)
from ingestion.simulators.world.randomness import Stream, day_weights, generator, sample_times
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
    require_clock,
    take_ids,
    use_utc,
    write_clock,
)
from ingestion.simulators.world.timestamps import to_datetime, with_iso_columns

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
MOVE_RATE_PER_DAY = 0.0015
EMAIL_CHANGE_RATE_PER_DAY = 0.0007
PRICE_CHANGE_RATE_PER_DAY = 0.003
DELIST_RATE_PER_DAY = 0.0005
REVIEWS_PER_DAY = 4.0
ERASURE_SHARE = 0.002


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


@dataclass(frozen=True)
class _Window:
    seed: int
    scale: float
    tick: int
    start: int
    end: int

    def rng(self, stream: Stream) -> np.random.Generator:
        return generator(self.seed, self.tick, stream)

    def times(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """Uniform times in the window (for changes that follow no daily pattern)."""
        return rng.integers(self.start, self.end, size=count, dtype=np.int64)


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
    conn = connect(settings, settings.ops_database)
    try:
        with conn, conn.cursor() as cur:
            use_utc(cur)
            step(TICK_STEPS[0])
            clock = require_clock(cur)
            window = _Window(
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
    finally:
        conn.close()
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


def _advance(cur: Cursor, window: _Window, step: StepCallback) -> dict[str, int]:
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
    changes = _customer_changes(cur, window, pools, customers, days)
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
    catalogue = _catalogue_changes(cur, window, pools, products, days)

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
    lifecycle = _lifecycle(cur, window, new_orders, items, new_schedule)

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
    erased = _erase_customers(cur, window, customers["customer_id"].to_numpy(), protected)
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


@dataclass(frozen=True)
class _CustomerChanges:
    moves: pd.DataFrame
    """``key, changed_at, country_code``: applies to orders placed after the move."""
    changed_ids: np.ndarray


def _customer_changes(
    cur: Cursor,
    window: _Window,
    pools: NamePools,
    customers: pd.DataFrame,
    days: float,
) -> _CustomerChanges:
    """Some customers move (country, city, address), some change their e-mail."""
    rng = window.rng(Stream.CUSTOMER_CHANGES)
    count = len(customers)
    moves = rng.random(count) < min(0.5, MOVE_RATE_PER_DAY * days)
    new_email = rng.random(count) < min(0.5, EMAIL_CHANGE_RATE_PER_DAY * days)
    if count and not moves.any():
        moves[rng.integers(count)] = True  # every tick has at least one move (for SCD2)
    changed_at = window.times(rng, count)
    touched = moves | new_email
    changed = customers.loc[touched].reset_index(drop=True)
    changed["updated_at"] = changed_at[touched]
    moving = moves[touched]
    emailing = new_email[touched]
    movers = changed.loc[moving].reset_index(drop=True)
    homes = relocations(rng, pools, movers["country_code"].to_numpy())
    movers[["country_code", "city", "address"]] = homes[["country_code", "city", "address"]]
    fresh = changed_emails(rng, changed["email"], changed["customer_id"].to_numpy())
    changed["email"] = np.where(emailing, fresh.to_numpy(), changed["email"].to_numpy())
    tables.update_rows(cur, tables.CUSTOMERS, movers, ("country_code", "city", "address"))
    tables.update_rows(cur, tables.CUSTOMERS, changed, ("email", "updated_at"))
    return _CustomerChanges(
        moves=pd.DataFrame(
            {
                "key": movers["customer_id"].to_numpy(),
                "changed_at": movers["updated_at"].to_numpy(),
                "country_code": movers["country_code"].to_numpy(),
            }
        ),
        changed_ids=changed["customer_id"].to_numpy(),
    )


@dataclass(frozen=True)
class _CatalogueChanges:
    sellable: pd.DataFrame
    """Listed products that stay listed through the window (``product_id, sku, price``)."""
    price_changes: pd.DataFrame
    """``key, changed_at, price``."""
    delisted: int
    reviews: int


def _catalogue_changes(
    cur: Cursor,
    window: _Window,
    pools: NamePools,
    products: pd.DataFrame,
    days: float,
) -> _CatalogueChanges:
    rng = window.rng(Stream.PRODUCT_CHANGES)
    listed = products.loc[~products["is_deleted"]].reset_index(drop=True)
    count = len(listed)
    delist = rng.random(count) < DELIST_RATE_PER_DAY * days
    reprice = (rng.random(count) < min(0.5, PRICE_CHANGE_RATE_PER_DAY * days)) & ~delist
    if count and not reprice.any() and not delist.all():
        reprice[rng.choice(np.nonzero(~delist)[0])] = True  # at least one price change a tick
    price_at = window.times(rng, count)
    delist_at = window.times(rng, count)
    old_price = listed["price"].to_numpy()
    factor = np.clip(1 + rng.normal(0.0, 0.12, size=count), 0.6, 1.5)
    new_price = np.maximum(np.floor(old_price * factor), 1.0) + 0.99
    new_price = np.where(new_price == old_price, old_price + 1.0, new_price)

    sellable = listed.loc[~delist, ["product_id", "sku", "price"]].reset_index(drop=True)
    review_count = int(rng.poisson(REVIEWS_PER_DAY * window.scale * days)) if count else 0
    weights = popularity(window.seed, sellable["product_id"].to_numpy())
    reviewed = (
        sellable["product_id"].to_numpy()[
            rng.choice(len(sellable), size=review_count, p=weights / weights.sum())
        ]
        if len(sellable) and review_count
        else np.empty(0, dtype=np.int64)
    )
    review_ids = take_ids(cur, "review", len(reviewed))
    reviews = generate_reviews(
        rng,
        pools,
        reviewed,
        window.times(rng, len(reviewed)),
        int(review_ids[0]) if len(review_ids) else 0,
    )

    touched = pd.concat(
        [
            pd.DataFrame({"product_id": listed["product_id"][reprice], "at": price_at[reprice]}),
            pd.DataFrame({"product_id": listed["product_id"][delist], "at": delist_at[delist]}),
            pd.DataFrame({"product_id": reviews["product_id"], "at": reviews["reviewed_at"]}),
        ],
        ignore_index=True,
    )
    updates = touched.groupby("product_id", as_index=False)["at"].max()
    updates = updates.rename(columns={"at": "updated_at"})
    changed_price = pd.Series(np.where(reprice, new_price, old_price), index=listed["product_id"])
    updates["price"] = changed_price.reindex(updates["product_id"]).to_numpy()
    updates["is_deleted"] = (
        pd.Series(delist, index=listed["product_id"]).reindex(updates["product_id"]).to_numpy()
    )
    tables.update_rows(cur, tables.PRODUCTS, updates, ("price", "is_deleted", "updated_at"))
    tables.copy_rows(cur, tables.PRODUCT_REVIEWS, reviews)
    return _CatalogueChanges(
        sellable=sellable,
        price_changes=pd.DataFrame(
            {
                "key": listed["product_id"].to_numpy()[reprice],
                "changed_at": price_at[reprice],
                "price": new_price[reprice],
            }
        ),
        delisted=int(delist.sum()),
        reviews=len(reviews),
    )


def _compare(
    states: Callable[[OrderSchedule, int], pd.DataFrame], schedule: OrderSchedule, window: _Window
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows of ``states`` at the window's end, whether each existed at its start, and whether
    its status changed since (among those that existed)."""
    before = states(schedule, window.start).set_index("order_id")
    after = states(schedule, window.end)
    known = after["order_id"].isin(before.index).to_numpy()
    old_status = before["status"].reindex(after["order_id"]).to_numpy()
    return after, known, known & (after["status"].to_numpy() != old_status)


def _lifecycle(
    cur: Cursor,
    window: _Window,
    new_orders: pd.DataFrame,
    new_items: pd.DataFrame,
    new_schedule: OrderSchedule,
) -> dict[str, int]:
    """Reveal what the fixed schedules say happened in the window, and write it."""
    open_orders = read_frame(
        cur,
        "select order_id, extract(epoch from ordered_at)::bigint as ordered_at, status, "
        "payment_method, currency from ops.orders "
        "where status in ('pending', 'paid', 'shipped', 'delivered') "
        "and ordered_at >= to_timestamp(%(since)s) and ordered_at < to_timestamp(%(start)s) "
        "order by order_id",
        {"since": window.start - LIFECYCLE_HORIZON, "start": window.start},
        dtypes={"order_id": "int64", "ordered_at": "int64"},
    )
    schedule = schedule_orders(
        window.seed,
        open_orders["order_id"].to_numpy(),
        open_orders["ordered_at"].to_numpy(),
        open_orders["currency"].to_numpy(),
    )
    before = order_states(schedule, window.start)
    after = order_states(schedule, window.end)
    drift = (before["status"].to_numpy() != open_orders["status"].to_numpy()).sum()
    if drift:
        log.warning("%d open orders differ from their schedule; they follow the schedule", drift)
    moved = after.loc[after["status"].to_numpy() != before["status"].to_numpy()]
    status_changes = tables.update_rows(cur, tables.ORDERS, moved, ("status", "updated_at"))

    pay_after, known, changed = _compare(payment_states, schedule, window)
    payment_changes = tables.update_rows(
        cur, tables.PAYMENTS, pay_after.loc[changed], ("status", "updated_at"), key="order_id"
    )
    first_payments = pay_after.loc[~known]
    totals = read_frame(
        cur,
        "select order_id, round(sum(quantity * unit_price * (1 - discount)), 2)::float8 "
        "as amount from ops.order_items where order_id = any(%(ids)s) group by order_id "
        "order by order_id",
        {"ids": first_payments["order_id"].tolist() or [0]},
        dtypes={"order_id": "int64"},
    ).set_index("order_id")["amount"]
    payments = pd.concat(
        [
            payment_rows(first_payments, open_orders, totals),
            payment_rows(
                payment_states(new_schedule, window.end), new_orders, order_totals(new_items)
            ),
        ],
        ignore_index=True,
    )
    payments = with_ids(payments, "payment_id", take_ids(cur, "payment", len(payments)))
    tables.copy_rows(cur, tables.PAYMENTS, payments)

    ship_after, known, changed = _compare(delivery_states, schedule, window)
    delivery_changes = tables.update_rows(
        cur,
        tables.DELIVERIES,
        ship_after.loc[changed],
        ("status", "delivered_at", "updated_at"),
        key="order_id",
    )
    deliveries = pd.concat(
        [ship_after.loc[~known], delivery_states(new_schedule, window.end)], ignore_index=True
    )
    deliveries = with_ids(deliveries, "delivery_id", take_ids(cur, "delivery", len(deliveries)))
    tables.copy_rows(cur, tables.DELIVERIES, deliveries)
    return {
        "order_status_changes": status_changes,
        "new_payments": len(payments),
        "payment_changes": payment_changes,
        "new_deliveries": len(deliveries),
        "delivery_changes": delivery_changes,
    }


def _erase_customers(
    cur: Cursor, window: _Window, customer_ids: np.ndarray, protected: set[int]
) -> int:
    """Hard-delete about 0.2% of the customers (at least one); their orders lose the link."""
    rng = window.rng(Stream.ERASURE)
    if len(customer_ids) == 0:
        return 0
    eligible = customer_ids[~np.isin(customer_ids, list(protected))]
    count = min(len(eligible), max(1, round(ERASURE_SHARE * len(customer_ids))))
    if count == 0:
        return 0
    erased = pd.DataFrame(
        {
            "customer_id": np.sort(rng.choice(eligible, size=count, replace=False)),
            "erased_at": window.times(rng, count),
        }
    )
    cur.execute("create temporary table sim_erasures (customer_id bigint, erased_at timestamptz)")
    copy_frame(cur, "sim_erasures", with_iso_columns(erased, ("erased_at",)))
    cur.execute(
        "update ops.orders as o set customer_id = null, "
        "updated_at = greatest(o.updated_at, e.erased_at) "
        "from sim_erasures as e where o.customer_id = e.customer_id"
    )
    cur.execute(
        "delete from ops.customers where customer_id in (select customer_id from sim_erasures)"
    )
    cur.execute("drop table sim_erasures")
    log.info("erased %d customers", count)
    return count
