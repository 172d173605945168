"""Clickstream events: the browsing behind every web/app order line, and abandoned sessions.

Each purchase event is one web/app order line (same customer, SKU, ``order_id`` and
timestamp = ``ordered_at``); a view (usually a click and an add-to-cart too) comes before it
in the same session. Abandoned sessions view, sometimes click and add to cart, never buy.
Events are built as columns (numpy/pandas) and turned into JSON lines in one pass.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from ingestion.simulators.world.orders import pick_customers
from ingestion.simulators.world.randomness import sample_times, uuid_strings
from ingestion.simulators.world.timestamps import iso_seconds

EVENT_COLUMNS = (
    "timestamp",
    "event_name",
    "platform",
    "customer_id",
    "sku",
    "order_id",
    "anchor",
)
"""Columns of an event frame (``timestamp`` and ``anchor`` in epoch seconds). ``anchor`` is
the session's time, used to put a whole session into one file."""
ABANDONED_SESSIONS_PER_ORDER = 1.0
BROWSE_VIEWS_PER_ORDER = 0.5


def _frame(
    timestamp: np.ndarray,
    event_name: str,
    platform: np.ndarray,
    customer_id: np.ndarray,
    sku: np.ndarray,
    order_id: np.ndarray,
    anchor: np.ndarray,
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": timestamp.astype(np.int64),
            "event_name": event_name,
            "platform": platform,
            "customer_id": customer_id.astype(np.int64),
            "sku": sku,
            "order_id": order_id.astype(np.int64),
            "anchor": anchor.astype(np.int64),
        }
    )


def empty_events() -> pd.DataFrame:
    """An event frame with no rows (and the right column types)."""
    ints = np.empty(0, dtype=np.int64)
    texts = np.empty(0, dtype=object)
    return _frame(ints, "view", texts, ints, texts, ints, ints)


def order_events(
    rng: np.random.Generator, lines: pd.DataFrame, browse_skus: np.ndarray, browse_p: np.ndarray
) -> pd.DataFrame:
    """Events of the sessions that ended in the given order lines.

    ``lines``: ``order_id, customer_id, channel, ordered_at, sku`` (web/app orders only).
    ``browse_skus``/``browse_p``: what else gets viewed, and how likely each SKU is.
    """
    if lines.empty:
        return empty_events()
    ordered_at = lines["ordered_at"].to_numpy(dtype=np.int64)
    customer = lines["customer_id"].to_numpy(dtype=np.int64)
    platform = lines["channel"].to_numpy(dtype=object)
    sku = lines["sku"].to_numpy(dtype=object)
    order_id = lines["order_id"].to_numpy(dtype=np.int64)
    count = len(lines)
    session = 120 + rng.random(count) * 2400
    span = session * rng.uniform(0.3, 1.0, size=count)
    viewed_at = ordered_at - span.astype(np.int64)
    clicked_at = viewed_at + (span * rng.uniform(0.1, 0.5, size=count)).astype(np.int64)
    carted_at = viewed_at + (span * rng.uniform(0.55, 0.95, size=count)).astype(np.int64)
    clicks = rng.random(count) < 0.7
    carts = rng.random(count) < 0.85
    none = np.full(count, -1, dtype=np.int64)
    parts = [
        _frame(viewed_at, "view", platform, customer, sku, none, ordered_at),
        _frame(clicked_at, "click", platform, customer, sku, none, ordered_at)[clicks],
        _frame(carted_at, "add_to_cart", platform, customer, sku, none, ordered_at)[carts],
        _frame(ordered_at, "purchase", platform, customer, sku, order_id, ordered_at),
    ]
    first_line = ~pd.Series(order_id).duplicated().to_numpy()
    extra = rng.poisson(BROWSE_VIEWS_PER_ORDER, size=count) * first_line
    if extra.sum() and len(browse_skus):
        owner = np.repeat(np.arange(count), extra)
        browsed_at = ordered_at[owner] - (session[owner] * rng.random(len(owner))).astype(np.int64)
        picked = browse_skus[rng.choice(len(browse_skus), size=len(owner), p=browse_p)]
        parts.append(
            _frame(
                browsed_at,
                "view",
                platform[owner],
                customer[owner],
                picked,
                np.full(len(owner), -1),
                ordered_at[owner],
            )
        )
    return pd.concat(parts, ignore_index=True)


def abandoned_events(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    browse_skus: np.ndarray,
    browse_p: np.ndarray,
    count: int,
    start: int,
    end: int,
) -> pd.DataFrame:
    """``count`` sessions in ``[start, end)`` that end without a purchase.

    ``customers``: ``customer_id, registered_at``; a session's customer registered before it.
    """
    started_at = sample_times(rng, count, start, end)
    registered = customers.sort_values(["registered_at", "customer_id"])
    registered_at = registered["registered_at"].to_numpy(dtype=np.int64)
    started_at = started_at[started_at >= (registered_at[0] if len(registered_at) else end)]
    if len(started_at) == 0 or len(browse_skus) == 0:
        return empty_events()
    count = len(started_at)
    customer = registered["customer_id"].to_numpy(dtype=np.int64)[
        pick_customers(rng, registered_at, started_at)
    ]
    platform = np.where(rng.random(count) < 0.6, "web", "app").astype(object)
    products = rng.choice([1, 2, 3, 4], size=count, p=[0.4, 0.3, 0.2, 0.1])
    owner = np.repeat(np.arange(count), products)
    step = rng.integers(20, 300, size=len(owner))
    offset = pd.Series(step).groupby(owner).cumsum().to_numpy() - step
    viewed_at = started_at[owner] + offset
    sku = browse_skus[rng.choice(len(browse_skus), size=len(owner), p=browse_p)]
    clicks = rng.random(len(owner)) < 0.5
    carts = clicks & (rng.random(len(owner)) < 0.4)
    clicked_at = viewed_at + rng.integers(2, 15, size=len(owner))
    carted_at = clicked_at + rng.integers(2, 60, size=len(owner))
    none = np.full(len(owner), -1, dtype=np.int64)
    args = (platform[owner], customer[owner], sku, none, started_at[owner])
    return pd.concat(
        [
            _frame(viewed_at, "view", *args),
            _frame(clicked_at, "click", *args)[clicks],
            _frame(carted_at, "add_to_cart", *args)[carts],
        ],
        ignore_index=True,
    )


def with_event_ids(rng: np.random.Generator, events: pd.DataFrame) -> pd.DataFrame:
    """Events sorted by time, each with a fresh UUID ``event_id``."""
    out = events.sort_values(["timestamp", "customer_id", "event_name", "sku"], kind="stable")
    out = out.reset_index(drop=True)
    out.insert(0, "event_id", uuid_strings(rng, len(out)))
    return out


def json_titles(titles: dict[str, str]) -> dict[str, str]:
    """SKU -> the product title as a JSON string literal (quotes and escapes included)."""
    return {sku: json.dumps(title, ensure_ascii=False) for sku, title in titles.items()}


def json_lines(events: pd.DataFrame, names: dict[str, str]) -> list[str]:
    """One JSON object per event, in the contract's nested shape (keys in contract order).

    ``names`` maps SKU to the product title already as a JSON literal (``json_titles``).
    """
    name = events["sku"].map(names).fillna('""').tolist()
    order = events["order_id"].to_numpy()
    order_text = np.where(order < 0, "null", order.astype(str)).tolist()
    return [
        f'{{"event_id": "{event_id}", "timestamp": "{timestamp}", "event_name": "{kind}", '
        f'"user_identifiers": {{"platform": "{platform}", "id": "{customer}"}}, '
        f'"product_information": {{"name": {title}, "SKU": "{sku}"}}, "order_id": {order_id}}}'
        for event_id, timestamp, kind, platform, customer, title, sku, order_id in zip(
            events["event_id"].tolist(),
            iso_seconds(events["timestamp"].to_numpy()).tolist(),
            events["event_name"].tolist(),
            events["platform"].tolist(),
            events["customer_id"].astype(str).tolist(),
            name,
            events["sku"].tolist(),
            order_text,
            strict=True,
        )
    ]
