"""An independent as-of computation of the customer features, in pandas, for the feature store's
tests: from the staged facts (valid orders and events as loaded, customer versions), never from
the feature tables, with the rules of docs/features.md written once more in another language.
The USD value of an order is the warehouse's (int_orders_summarised: its pricing is proven by
the sales tests); every windowing, as-of and ranking rule is recomputed here."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from tests.worlds import BuiltWarehouse

ORDER_WINDOWS = (30, 90, 365)
EVENT_WINDOWS = (7, 30)
SCORE_TILES = 5


@dataclass(frozen=True)
class Facts:
    orders: pd.DataFrame  # customer_id, ordered_at, net_amount_usd
    events: pd.DataFrame  # customer_id, event_name, event_at
    versions: (
        pd.DataFrame
    )  # customer_id, country_code, is_erased, registered_at, valid_from, valid_to
    first_activity_date: date


def frame(warehouse: BuiltWarehouse, statement: str, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(warehouse.query(statement), columns=columns)


def load_facts(warehouse: BuiltWarehouse) -> Facts:
    orders = frame(
        warehouse,
        "select o.customer_id, o.ordered_at, s.net_amount_usd from staging.stg_ops__orders o "
        "join intermediate.int_orders_summarised s using (order_id) "
        "where o.is_valid and o.customer_id is not null",
        ["customer_id", "ordered_at", "net_amount_usd"],
    )
    orders["net_amount_usd"] = orders["net_amount_usd"].astype(float)
    events = frame(
        warehouse,
        "select customer_id, event_name, event_at from staging.stg_files__events "
        "where is_valid and customer_id is not null",
        ["customer_id", "event_name", "event_at"],
    )
    versions = frame(
        warehouse,
        "select customer_id, country_code, is_erased, registered_at, valid_from, valid_to "
        "from intermediate.int_customer_versions_windowed",
        ["customer_id", "country_code", "is_erased", "registered_at", "valid_from", "valid_to"],
    )
    first = min(orders["ordered_at"].min(), events["event_at"].min()).date()
    return Facts(orders, events, versions, first)


def ntile(keys: pd.DataFrame, by: list[str], ascending: list[bool]) -> pd.Series:
    """Postgres' ntile(5) over `by`: the first (n mod 5) tiles hold one row more."""
    ordered = keys.sort_values(by, ascending=ascending).index
    count = len(ordered)
    small, extra = divmod(count, SCORE_TILES)
    tiles: list[int] = []
    for tile in range(1, SCORE_TILES + 1):
        tiles += [tile] * (small + (1 if tile <= extra else 0))
    return pd.Series(tiles, index=ordered)


def rfm_scores(facts: Facts, cutoff: datetime) -> pd.DataFrame:
    """Recency, frequency and monetary scores among every customer with an order before
    `cutoff` (erased ones included, as the rule says)."""
    before = facts.orders[facts.orders["ordered_at"] < cutoff]
    per_customer = before.groupby("customer_id").agg(
        orders=("ordered_at", "size"),
        revenue=("net_amount_usd", "sum"),
        last=("ordered_at", "max"),
    )
    per_customer["days"] = [(cutoff.date() - last.date()).days for last in per_customer["last"]]
    keys = per_customer.reset_index()
    scores = pd.DataFrame(index=keys.index)
    scores["recency_score"] = ntile(keys, ["days", "customer_id"], [False, True])
    scores["frequency_score"] = ntile(keys, ["orders", "customer_id"], [True, True])
    scores["monetary_score"] = ntile(keys, ["revenue", "customer_id"], [True, True])
    scores["customer_id"] = keys["customer_id"]
    return scores.set_index("customer_id")


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def customer_features(facts: Facts, customer_id: int, at: datetime) -> dict[str, object] | None:
    """The features of one customer for a training row at `at`: those of the day's row (the
    newest as-of time at or before `at`, midnight), computed from what happened before that
    midnight; None when the customer has no row then (not registered, erased)."""
    cutoff = datetime.combine(at.date(), datetime.min.time())
    versions = facts.versions[facts.versions["customer_id"] == customer_id]
    if versions.empty or bool(versions["is_erased"].any()):
        return None
    registered = versions["registered_at"].min().date()
    if cutoff.date() < max(registered, facts.first_activity_date) + timedelta(days=1):
        return None
    orders = facts.orders[
        (facts.orders["customer_id"] == customer_id) & (facts.orders["ordered_at"] < cutoff)
    ]
    events = facts.events[
        (facts.events["customer_id"] == customer_id) & (facts.events["event_at"] < cutoff)
    ]
    in_force = versions[
        (versions["valid_from"] < cutoff)
        & (versions["valid_to"].isna() | (versions["valid_to"] >= cutoff))
    ]
    expected: dict[str, object] = {
        "country_code": in_force["country_code"].iloc[0] if len(in_force) else None,
        "orders_to_date": len(orders),
        "revenue_to_date_usd": float(orders["net_amount_usd"].sum()),
        "average_order_value_usd": ratio(float(orders["net_amount_usd"].sum()), len(orders)),
        "days_since_last_order": (
            (cutoff.date() - orders["ordered_at"].max().date()).days if len(orders) else None
        ),
    }
    for days in ORDER_WINDOWS:
        recent = orders[orders["ordered_at"] >= cutoff - timedelta(days=days)]
        expected[f"orders_last_{days}_days"] = len(recent)
        expected[f"revenue_last_{days}_days_usd"] = float(recent["net_amount_usd"].sum())
    for days in EVENT_WINDOWS:
        recent = events[events["event_at"] >= cutoff - timedelta(days=days)]
        views = int((recent["event_name"] == "view").sum())
        purchases = int((recent["event_name"] == "purchase").sum())
        expected[f"events_last_{days}_days"] = len(recent)
        expected[f"views_last_{days}_days"] = views
        expected[f"purchases_last_{days}_days"] = purchases
        expected[f"view_to_purchase_rate_last_{days}_days"] = ratio(purchases, views)
    scores = rfm_scores(facts, cutoff)
    for name in ("recency_score", "frequency_score", "monetary_score"):
        expected[name] = int(scores.loc[customer_id, name]) if customer_id in scores.index else None
    return expected


def is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def same(actual: object, expected: object) -> bool:
    """Equal values, nulls alike, numbers to 1e-6 (the table keeps six decimals)."""
    if is_missing(expected) or is_missing(actual):
        return is_missing(expected) and is_missing(actual)
    if isinstance(expected, (int, float)):
        return math.isclose(float(actual), float(expected), abs_tol=1e-5)  # type: ignore[arg-type]
    return actual == expected
