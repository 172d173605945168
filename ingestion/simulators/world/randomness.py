"""Seeded randomness: one generator per (seed, tick, stream), and per-key hashed draws.

Two kinds of draw keep the world reproducible:

- ``generator(seed, tick, stream)`` gives an independent numpy generator for one part of one
  step (the initial build is tick 0), so changing one part never shifts another's draws.
- ``keyed_uniforms(seed, keys, stream, count)`` gives draws that are a pure function of a key
  (an order id, a product id). An order's whole life (when it is paid, shipped, delivered)
  is fixed when it is placed, whichever ticks later reveal it.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

from ingestion.simulators.world.reference_data import DAY


class Stream(IntEnum):
    """The independent random streams of one build or tick."""

    NAMES = 1
    CATALOGUE = 2
    CUSTOMERS = 3
    ORDERS = 4
    MARKETPLACE = 5
    CUSTOMER_CHANGES = 6
    PRODUCT_CHANGES = 7
    ERASURE = 8
    CLICKSTREAM = 9
    MARKETING_SPEND = 10
    FAULTS = 11
    ORDER_LIFECYCLE = 12
    PRODUCT_POPULARITY = 13


def generator(seed: int, tick: int, stream: Stream) -> np.random.Generator:
    """An independent generator for one stream of one tick (the initial build is tick 0)."""
    return np.random.default_rng([int(seed), int(tick), int(stream)])


_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser, element-wise on uint64 (wrapping arithmetic)."""
    z = values + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) & _MASK


def keyed_uniforms(seed: int, keys: np.ndarray, stream: Stream, count: int) -> np.ndarray:
    """``count`` uniform draws in [0, 1) per key, a pure function of (seed, key, stream).

    Returns an array of shape ``(len(keys), count)``.
    """
    base = np.asarray(keys, dtype=np.int64).astype(np.uint64)
    salt = _splitmix64(np.array([int(seed) * 1_000_003 + int(stream)], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        mixed = _splitmix64(base ^ salt)
        columns = [
            _splitmix64(mixed + np.uint64(index) * np.uint64(0xD1B54A32D192ED03))
            for index in range(count)
        ]
    out = np.stack(columns, axis=1) if columns else np.empty((len(base), 0), dtype=np.uint64)
    return (out >> np.uint64(11)).astype(np.float64) / float(1 << 53)


HOUR_WEIGHTS = np.array(
    [1, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 8, 9, 9, 8, 8, 8, 9, 10, 11, 11, 9, 6, 3], dtype=float
)
"""Relative shopping activity by hour of day (UTC)."""


def day_weights(day_starts: np.ndarray) -> np.ndarray:
    """Relative order volume per day: a year-end peak (Black Friday to Christmas), busy weekends."""
    days = day_starts.astype("datetime64[s]").astype("datetime64[D]")
    day_of_year = (days - days.astype("datetime64[Y]")).astype(int)
    weekday = (days.astype(int) + 3) % 7  # 0 = Monday
    season = 1.0 + 0.8 * np.exp(-(((day_of_year - 335) / 22.0) ** 2))
    weekend = np.where(weekday >= 5, 1.15, 1.0)
    return season * weekend


def sample_times(rng: np.random.Generator, count: int, start: int, end: int) -> np.ndarray:
    """``count`` sorted epoch seconds in ``[start, end)`` following daily and hourly patterns."""
    if count <= 0 or end <= start:
        return np.empty(0, dtype=np.int64)
    first_day = start - start % DAY
    day_starts = np.arange(first_day, end, DAY, dtype=np.int64)
    weights = day_weights(day_starts)
    day_index = rng.choice(len(day_starts), size=count, p=weights / weights.sum())
    hour = rng.choice(24, size=count, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    seconds = day_starts[day_index] + hour * 3600 + rng.integers(0, 3600, size=count)
    # Partial first/last days: fold draws outside the window back into it.
    span = end - start
    seconds = start + (seconds - start) % span
    return np.sort(seconds.astype(np.int64))


def uuid_strings(rng: np.random.Generator, count: int) -> np.ndarray:
    """``count`` random version-4 UUIDs as strings, built without a Python loop per id."""
    raw = rng.integers(0, 256, size=(count, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hex_digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    nibbles = np.empty((count, 32), dtype=np.uint8)
    nibbles[:, 0::2] = hex_digits[raw >> 4]
    nibbles[:, 1::2] = hex_digits[raw & 0x0F]
    text = np.full((count, 36), ord("-"), dtype=np.uint8)
    for target, source, width in ((0, 0, 8), (9, 8, 4), (14, 12, 4), (19, 16, 4), (24, 20, 12)):
        text[:, target : target + width] = nibbles[:, source : source + width]
    return text.view("S36").ravel().astype(str)
