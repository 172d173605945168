"""Placing orders: who buys, what, in which currency and at what price; their order lines."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.simulators.world.order_lifecycle import OrderSchedule, order_states
from ingestion.simulators.world.randomness import Stream, keyed_uniforms
from ingestion.simulators.world.reference_data import (
    CHANNEL_WEIGHTS,
    CHANNELS,
    COUNTRY_CURRENCY,
    DAY,
    DISCOUNT_WEIGHTS,
    DISCOUNTS,
    LINES_PER_ORDER,
    LINES_PER_ORDER_WEIGHTS,
    PAYMENT_METHOD_WEIGHTS,
    PAYMENT_METHODS,
    QUANTITIES,
    QUANTITY_WEIGHTS,
    USD_EXCHANGE_RATES,
)
from ingestion.simulators.world.timestamps import iso_dates


@dataclass(frozen=True)
class PlacedOrders:
    """New orders (their fixed columns, no status yet) and their lines."""

    orders: pd.DataFrame
    items: pd.DataFrame


def _weights(values: tuple[float, ...]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def popularity(seed: int, product_ids: np.ndarray) -> np.ndarray:
    """A fixed, heavy-tailed popularity weight per product (a pure function of its id)."""
    u = keyed_uniforms(seed, product_ids, Stream.PRODUCT_POPULARITY, 1)[:, 0]
    return 0.2 + 10.0 * u**6


def as_of(
    keys: np.ndarray,
    times: np.ndarray,
    current: pd.Series,
    changes: pd.DataFrame | None,
    value: str,
) -> np.ndarray:
    """Per (key, time), the value in force: ``current`` (indexed by key) unless ``changes``
    (``key, changed_at, <value>`` with at most one change per key) took effect before it."""
    base = current.reindex(keys).to_numpy()
    if changes is None or changes.empty:
        return base
    indexed = changes.set_index("key")
    changed_at = indexed["changed_at"].reindex(keys).to_numpy(dtype=float, na_value=np.inf)
    new = indexed[value].reindex(keys).to_numpy()
    return np.where(changed_at <= times, new, base)


def pick_customers(
    rng: np.random.Generator, registered_at: np.ndarray, ordered_at: np.ndarray
) -> np.ndarray:
    """For each order time, the index of a customer registered before it.

    ``registered_at`` must be sorted; every order time must follow the first registration.
    """
    eligible = np.searchsorted(registered_at, ordered_at, side="right")
    if np.any(eligible == 0):
        raise ValueError("an order precedes every customer's registration")
    return np.minimum((rng.random(len(ordered_at)) * eligible).astype(np.int64), eligible - 1)


def place_orders(
    rng: np.random.Generator,
    seed: int,
    *,
    order_ids: np.ndarray,
    ordered_at: np.ndarray,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    first_item_id: int,
    moves: pd.DataFrame | None = None,
    price_changes: pd.DataFrame | None = None,
) -> PlacedOrders:
    """Orders at the given times with their lines.

    ``customers``: ``customer_id, registered_at, country_code`` (any order). ``products``: the
    listed products (``product_id, sku, price`` in USD). ``moves`` (``key, changed_at,
    country_code``) and ``price_changes`` (``key, changed_at, price``) apply to orders placed
    after them: an order's currency is its customer's country currency at order time.
    """
    count = len(order_ids)
    buyers = customers.sort_values(["registered_at", "customer_id"]).reset_index(drop=True)
    chosen = pick_customers(rng, buyers["registered_at"].to_numpy(), ordered_at)
    customer_id = buyers["customer_id"].to_numpy()[chosen]
    country = as_of(
        customer_id,
        ordered_at,
        buyers.set_index("customer_id")["country_code"],
        moves,
        "country_code",
    )
    currency = pd.Series(country).map(COUNTRY_CURRENCY).to_numpy(dtype=object)
    delivery_date = iso_dates(ordered_at + rng.integers(2, 9, size=count) * DAY)
    orders = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": customer_id,
            "ordered_at": ordered_at,
            "payment_method": np.array(PAYMENT_METHODS, dtype=object)[
                rng.choice(len(PAYMENT_METHODS), size=count, p=_weights(PAYMENT_METHOD_WEIGHTS))
            ],
            "currency": currency,
            "channel": np.array(CHANNELS, dtype=object)[
                rng.choice(len(CHANNELS), size=count, p=_weights(CHANNEL_WEIGHTS))
            ],
            "delivery_date": delivery_date,
            "created_at": ordered_at,
        }
    )
    return PlacedOrders(
        orders=orders,
        items=_order_lines(rng, seed, orders, products, first_item_id, price_changes),
    )


def _order_lines(
    rng: np.random.Generator,
    seed: int,
    orders: pd.DataFrame,
    products: pd.DataFrame,
    first_item_id: int,
    price_changes: pd.DataFrame | None,
) -> pd.DataFrame:
    lines = np.array(LINES_PER_ORDER)[
        rng.choice(len(LINES_PER_ORDER), size=len(orders), p=_weights(LINES_PER_ORDER_WEIGHTS))
    ]
    total = int(lines.sum())
    owner = np.repeat(np.arange(len(orders)), lines)
    line_number = np.arange(total) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    product_ids = products["product_id"].to_numpy()
    weights = popularity(seed, product_ids)
    picked = rng.choice(len(product_ids), size=total, p=weights / weights.sum())
    product_id = product_ids[picked]
    ordered_at = orders["ordered_at"].to_numpy()[owner]
    currency = orders["currency"].to_numpy()[owner]
    price_usd = as_of(
        product_id,
        ordered_at,
        products.set_index("product_id")["price"],
        price_changes,
        "price",
    ).astype(float)
    rate = pd.Series(currency).map(USD_EXCHANGE_RATES).to_numpy(dtype=float)
    unit_price = np.maximum(np.round(price_usd * rate, 2), 0.01)
    return pd.DataFrame(
        {
            "order_item_id": first_item_id + np.arange(total, dtype=np.int64),
            "order_id": orders["order_id"].to_numpy()[owner],
            "line_number": line_number,
            "product_id": product_id,
            "sku": products["sku"].to_numpy()[picked],
            "quantity": np.array(QUANTITIES)[
                rng.choice(len(QUANTITIES), size=total, p=_weights(QUANTITY_WEIGHTS))
            ],
            "unit_price": unit_price,
            "discount": np.array(DISCOUNTS)[
                rng.choice(len(DISCOUNTS), size=total, p=_weights(DISCOUNT_WEIGHTS))
            ],
            "created_at": ordered_at,
            "updated_at": ordered_at,
        }
    )


def orders_with_status(orders: pd.DataFrame, schedule: OrderSchedule, at: int) -> pd.DataFrame:
    """The order rows as they stand at ``at`` (``status`` and ``updated_at`` added)."""
    states = order_states(schedule, at).set_index("order_id")
    out = orders.copy()
    out["status"] = states["status"].reindex(out["order_id"]).to_numpy()
    out["updated_at"] = states["updated_at"].reindex(out["order_id"]).to_numpy()
    return out


def order_totals(items: pd.DataFrame) -> pd.Series:
    """Amount due per order id: sum of quantity x unit price x (1 - discount), to the cent.

    Computed exactly in integers (thousandths of a cent) and rounded half up, as Postgres's
    ``round(numeric, 2)`` does, so the amount equals the sum of the stored lines.
    """
    cents = np.round(items["unit_price"].to_numpy() * 100).astype(np.int64)
    per_mille = 1000 - np.round(items["discount"].to_numpy() * 1000).astype(np.int64)
    exact = items["quantity"].to_numpy().astype(np.int64) * cents * per_mille
    total = pd.Series(exact).groupby(items["order_id"].to_numpy()).sum()
    return (total + 500) // 1000 / 100
