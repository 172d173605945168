"""Payment and delivery rows of orders, shaped for ``ops.payments`` and ``ops.deliveries``."""

from __future__ import annotations

import numpy as np
import pandas as pd


def payment_rows(states: pd.DataFrame, orders: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """Payments from ``payment_states`` rows, with the order's method, currency and total.

    ``orders`` holds ``order_id, payment_method, currency``; ``totals`` is indexed by order id.
    """
    info = orders.set_index("order_id")
    out = states.copy()
    out["method"] = info["payment_method"].reindex(out["order_id"]).to_numpy()
    out["currency"] = info["currency"].reindex(out["order_id"]).to_numpy()
    out["amount"] = totals.reindex(out["order_id"]).to_numpy()
    return out


def in_creation_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by ``(created_at, order_id)``: the order in which new ids are handed out."""
    return frame.sort_values(["created_at", "order_id"], kind="stable").reset_index(drop=True)


def with_ids(frame: pd.DataFrame, column: str, ids: np.ndarray) -> pd.DataFrame:
    """``frame`` (in creation order) with ``column`` set to the given new ids."""
    out = in_creation_order(frame)
    out.insert(0, column, ids)
    return out
