"""An order's whole life, fixed when it is placed: a pure function of (seed, order id, time).

Each order draws a fate and the delays between its milestones from hashed uniforms (see
``randomness.keyed_uniforms``). The state of an order, its payment and its delivery at any
business time is then "the milestones already passed", so every status only ever moves along
the contract's paths, and a tick merely reveals what the schedule says happened in its window:

- orders: ``pending -> paid -> shipped -> delivered``; ``pending|paid -> cancelled``;
  ``paid|shipped|delivered -> refunded``
- payments: ``authorized -> captured -> refunded``, or ``failed`` (a failed attempt on an
  order that is then cancelled while pending)
- deliveries (created when the order ships): ``in_transit -> delivered`` or ``returned``
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import pandas as pd

from ingestion.simulators.world.randomness import Stream, keyed_uniforms
from ingestion.simulators.world.reference_data import CARRIERS_BY_CURRENCY, DAY
from ingestion.simulators.world.timestamps import NEVER

HOUR = 3600
LIFECYCLE_HORIZON = 40 * DAY
"""No order changes later than this after it was placed (the longest path is < 30 days)."""


class Fate(IntEnum):
    """How an order's life ends."""

    DELIVERED = 0
    CANCELLED_PENDING = 1
    CANCELLED_PAID = 2
    REFUNDED_PAID = 3
    REFUNDED_SHIPPED = 4
    REFUNDED_DELIVERED = 5


FATE_THRESHOLDS = np.cumsum([0.03, 0.02, 0.005, 0.01, 0.03])
"""Cumulative shares of every fate but DELIVERED, in Fate order from CANCELLED_PENDING."""


@dataclass(frozen=True)
class OrderSchedule:
    """Milestone times (epoch seconds, ``NEVER`` when a milestone does not happen)."""

    order_id: np.ndarray
    ordered_at: np.ndarray
    fate: np.ndarray
    paid_at: np.ndarray
    captured_at: np.ndarray
    payment_failed_at: np.ndarray
    shipped_at: np.ndarray
    delivered_at: np.ndarray
    cancelled_at: np.ndarray
    refunded_at: np.ndarray
    carrier: np.ndarray


def _draw_fate(u: np.ndarray) -> np.ndarray:
    return np.where(u < FATE_THRESHOLDS[-1], np.searchsorted(FATE_THRESHOLDS, u, "right") + 1, 0)


def schedule_orders(
    seed: int, order_ids: np.ndarray, ordered_at: np.ndarray, currencies: np.ndarray
) -> OrderSchedule:
    """The full schedule of each order (carriers are picked from the order's currency zone)."""
    order_ids = np.asarray(order_ids, dtype=np.int64)
    ordered_at = np.asarray(ordered_at, dtype=np.int64)
    u = keyed_uniforms(seed, order_ids, Stream.ORDER_LIFECYCLE, 9)
    fate = _draw_fate(u[:, 0])
    never = np.full(len(order_ids), NEVER, dtype=np.int64)

    pays = fate != Fate.CANCELLED_PENDING
    paid_at = np.where(pays, ordered_at + 60 + (u[:, 1] ** 4 * 48 * HOUR).astype(np.int64), never)
    captured_at = np.where(pays, paid_at + 60 + (u[:, 2] * 3000).astype(np.int64), never)
    ships = np.isin(fate, (Fate.DELIVERED, Fate.REFUNDED_SHIPPED, Fate.REFUNDED_DELIVERED))
    shipped_at = np.where(ships, paid_at + 4 * HOUR + (u[:, 3] * 72 * HOUR).astype(np.int64), never)
    delivers = np.isin(fate, (Fate.DELIVERED, Fate.REFUNDED_DELIVERED))
    transit = DAY + (u[:, 4] * 6 * DAY).astype(np.int64)
    delivered_at = np.where(delivers, shipped_at + transit, never)

    cancel_delay = HOUR + 60 + (u[:, 5] * 48 * HOUR).astype(np.int64)
    cancelled_at = np.select(
        [fate == Fate.CANCELLED_PENDING, fate == Fate.CANCELLED_PAID],
        [ordered_at + cancel_delay, paid_at + cancel_delay],
        NEVER,
    )
    failed = (fate == Fate.CANCELLED_PENDING) & (u[:, 6] < 0.5)
    payment_failed_at = np.where(
        failed, ordered_at + ((cancelled_at - ordered_at) * u[:, 7]).astype(np.int64), never
    )
    refund_delay = HOUR + 60 + (u[:, 5] * 14 * DAY).astype(np.int64)
    refunded_at = np.select(
        [
            fate == Fate.REFUNDED_PAID,
            fate == Fate.REFUNDED_SHIPPED,
            fate == Fate.REFUNDED_DELIVERED,
        ],
        [paid_at + refund_delay, shipped_at + refund_delay, delivered_at + refund_delay],
        NEVER,
    )
    carrier = np.empty(len(order_ids), dtype=object)
    currencies = np.asarray(currencies, dtype=object)
    for currency, options in CARRIERS_BY_CURRENCY.items():
        rows = currencies == currency
        carrier[rows] = np.array(options, dtype=object)[(u[rows, 8] * len(options)).astype(int)]
    return OrderSchedule(
        order_id=order_ids,
        ordered_at=ordered_at,
        fate=fate,
        paid_at=paid_at,
        captured_at=captured_at,
        payment_failed_at=payment_failed_at,
        shipped_at=shipped_at,
        delivered_at=delivered_at,
        cancelled_at=cancelled_at,
        refunded_at=refunded_at,
        carrier=carrier,
    )


def _latest(at: int, *milestones: np.ndarray) -> np.ndarray:
    """Per row, the latest of the milestones that happened before ``at`` (NEVER if none)."""
    passed = [np.where(m < at, m, np.iinfo(np.int64).min) for m in milestones]
    latest = np.maximum.reduce(passed)
    return np.where(latest == np.iinfo(np.int64).min, NEVER, latest)


def order_states(schedule: OrderSchedule, at: int) -> pd.DataFrame:
    """``order_id, status, updated_at`` of every order as it stands at ``at``."""
    s = schedule
    status = np.full(len(s.order_id), "pending", dtype=object)
    for name, milestone in (
        ("paid", s.paid_at),
        ("shipped", s.shipped_at),
        ("delivered", s.delivered_at),
        ("cancelled", s.cancelled_at),
        ("refunded", s.refunded_at),
    ):
        status[milestone < at] = name
    updated_at = _latest(
        at, s.ordered_at, s.paid_at, s.shipped_at, s.delivered_at, s.cancelled_at, s.refunded_at
    )
    return pd.DataFrame({"order_id": s.order_id, "status": status, "updated_at": updated_at})


def payment_states(schedule: OrderSchedule, at: int) -> pd.DataFrame:
    """``order_id, status, paid_at, created_at, updated_at`` of the payments that exist at ``at``.

    A payment appears when the order is paid (``authorized``) or when an attempt fails.
    """
    s = schedule
    refund_at = np.where(s.fate == Fate.CANCELLED_PAID, s.cancelled_at, s.refunded_at)
    status = np.full(len(s.order_id), "", dtype=object)
    status[s.paid_at < at] = "authorized"
    status[s.captured_at < at] = "captured"
    status[refund_at < at] = "refunded"
    status[s.payment_failed_at < at] = "failed"
    created_at = np.minimum(s.paid_at, s.payment_failed_at)
    updated_at = _latest(at, s.paid_at, s.captured_at, refund_at, s.payment_failed_at)
    exists = status != ""
    return pd.DataFrame(
        {
            "order_id": s.order_id[exists],
            "status": status[exists],
            "paid_at": created_at[exists],
            "created_at": created_at[exists],
            "updated_at": updated_at[exists],
        }
    )


def delivery_states(schedule: OrderSchedule, at: int) -> pd.DataFrame:
    """``order_id, carrier, status, shipped_at, delivered_at, created_at, updated_at`` of the
    deliveries that exist at ``at`` (``delivered_at`` is ``NEVER`` until delivered)."""
    s = schedule
    returned_at = np.where(s.fate == Fate.REFUNDED_SHIPPED, s.refunded_at, NEVER)
    status = np.full(len(s.order_id), "", dtype=object)
    status[s.shipped_at < at] = "in_transit"
    status[s.delivered_at < at] = "delivered"
    status[returned_at < at] = "returned"
    delivered_at = np.where(s.delivered_at < at, s.delivered_at, NEVER)
    updated_at = _latest(at, s.shipped_at, s.delivered_at, returned_at)
    exists = status != ""
    return pd.DataFrame(
        {
            "order_id": s.order_id[exists],
            "carrier": s.carrier[exists],
            "status": status[exists],
            "shipped_at": s.shipped_at[exists],
            "delivered_at": delivered_at[exists],
            "created_at": s.shipped_at[exists],
            "updated_at": updated_at[exists],
        }
    )
