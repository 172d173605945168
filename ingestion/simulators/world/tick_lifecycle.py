"""A tick's order lifecycle: reveal what the orders' fixed schedules say happened in the
window (status changes, payments, deliveries) and write it."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd

from ingestion.simulators.world import tables
from ingestion.simulators.world.bulk_io import Cursor, read_frame
from ingestion.simulators.world.fulfilment import payment_rows, with_ids
from ingestion.simulators.world.order_lifecycle import (
    LIFECYCLE_HORIZON,
    OrderSchedule,
    delivery_states,
    order_states,
    payment_states,
    schedule_orders,
)
from ingestion.simulators.world.orders import order_totals
from ingestion.simulators.world.sim_state import take_ids
from ingestion.simulators.world.tick_window import TickWindow

log = logging.getLogger(__name__)


def _compare(
    states: Callable[[OrderSchedule, int], pd.DataFrame],
    schedule: OrderSchedule,
    window: TickWindow,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows of ``states`` at the window's end, whether each existed at its start, and whether
    its status changed since (among those that existed)."""
    before = states(schedule, window.start).set_index("order_id")
    after = states(schedule, window.end)
    known = after["order_id"].isin(before.index).to_numpy()
    old_status = before["status"].reindex(after["order_id"]).to_numpy()
    return after, known, known & (after["status"].to_numpy() != old_status)


def reveal_lifecycle(
    cur: Cursor,
    window: TickWindow,
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
