"""Daily marketing spend per campaign, as the ad platforms export it (one CSV per day)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingestion.simulators.world.randomness import day_weights
from ingestion.simulators.world.reference_data import MARKETING_CAMPAIGNS
from ingestion.simulators.world.timestamps import iso_dates

SPEND_COLUMNS = ("date", "channel", "campaign", "spend", "currency", "impressions", "clicks")
"""The header of every spend file, in order (the contract)."""
COST_PER_THOUSAND = {"web": (4.0, 9.0), "app": (6.0, 12.0), "marketplace": (3.0, 7.0)}
CLICK_THROUGH = (0.005, 0.03)


def daily_spend(rng: np.random.Generator, day_starts: np.ndarray, scale: float) -> pd.DataFrame:
    """One row per (day, campaign): spend follows the order seasonality, with noise."""
    days = len(day_starts)
    campaigns = len(MARKETING_CAMPAIGNS)
    day = np.repeat(day_starts, campaigns)
    channel = np.tile([c[0] for c in MARKETING_CAMPAIGNS], days).astype(object)
    typical = np.tile([c[3] for c in MARKETING_CAMPAIGNS], days)
    season = np.repeat(day_weights(day_starts), campaigns)
    spend = np.round(typical * scale * season * rng.lognormal(0.0, 0.25, size=len(day)), 2)
    low = pd.Series(channel).map({k: v[0] for k, v in COST_PER_THOUSAND.items()}).to_numpy()
    high = pd.Series(channel).map({k: v[1] for k, v in COST_PER_THOUSAND.items()}).to_numpy()
    impressions = (spend / rng.uniform(low, high) * 1000).astype(np.int64)
    clicks = (impressions * rng.uniform(*CLICK_THROUGH, size=len(day))).astype(np.int64)
    return pd.DataFrame(
        {
            "date": iso_dates(day),
            "channel": channel,
            "campaign": np.tile([c[1] for c in MARKETING_CAMPAIGNS], days).astype(object),
            "spend": spend,
            "currency": np.tile([c[2] for c in MARKETING_CAMPAIGNS], days).astype(object),
            "impressions": impressions,
            "clicks": clicks,
        }
    )
