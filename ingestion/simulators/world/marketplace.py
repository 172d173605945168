"""Partner marketplace sales (Amazon, eBay, Zalando): about a tenth of the order volume."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from ingestion.simulators.world.orders import as_of, popularity
from ingestion.simulators.world.reference_data import MARKETPLACE_PARTNERS, USD_EXCHANGE_RATES

IdReserver = Callable[[str, int], np.ndarray]
"""Given a sequence name and a count, hands out that many new consecutive numbers."""


def sequence_name(partner: str) -> str:
    """The ``sim.id_sequences`` entity numbering one partner's order ids."""
    return f"sale:{partner}"


def generate_sales(
    rng: np.random.Generator,
    seed: int,
    *,
    sold_at: np.ndarray,
    products: pd.DataFrame,
    reserve_ids: IdReserver,
    price_changes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Sales at the given times of listed ``products`` (``product_id, sku, price`` in USD).

    Partner order ids are ``<prefix>-<number>`` numbered per partner by ``reserve_ids``.
    """
    count = len(sold_at)
    names = list(MARKETPLACE_PARTNERS)
    shares = np.array([MARKETPLACE_PARTNERS[name][2] for name in names])
    partner_index = rng.choice(len(names), size=count, p=shares / shares.sum())
    partner = np.array(names, dtype=object)[partner_index]
    sale_id = np.empty(count, dtype=object)
    currency = np.empty(count, dtype=object)
    for index, name in enumerate(names):
        rows = np.nonzero(partner_index == index)[0]
        prefix, currencies, _ = MARKETPLACE_PARTNERS[name]
        numbers = reserve_ids(sequence_name(name), len(rows))
        sale_id[rows] = (prefix + "-" + pd.Series(numbers).astype(str).str.zfill(6)).to_numpy()
        currency[rows] = np.array(currencies, dtype=object)[
            rng.integers(0, len(currencies), size=len(rows))
        ]
    product_ids = products["product_id"].to_numpy()
    weights = popularity(seed, product_ids)
    picked = rng.choice(len(product_ids), size=count, p=weights / weights.sum())
    price_usd = as_of(
        product_ids[picked],
        sold_at,
        products.set_index("product_id")["price"],
        price_changes,
        "price",
    ).astype(float)
    quantity = rng.choice([1, 2, 3], size=count, p=[0.8, 0.15, 0.05])
    rate = pd.Series(currency).map(USD_EXCHANGE_RATES).to_numpy(dtype=float)
    partner_discount = rng.choice([0.0, 0.05, 0.1, 0.15], size=count, p=[0.6, 0.2, 0.15, 0.05])
    gross = np.round(quantity * price_usd * rate * (1 - partner_discount), 2)
    return pd.DataFrame(
        {
            "partner_order_id": sale_id,
            "partner_name": partner,
            "sku": products["sku"].to_numpy()[picked],
            "quantity": quantity,
            "gross_amount": gross,
            "currency": currency,
            "sold_at": sold_at,
            "updated_at": sold_at,
        }
    )
