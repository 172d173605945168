"""The window one tick covers, ``[start, end)`` in business seconds, and its random streams."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingestion.simulators.world.randomness import Stream, generator


@dataclass(frozen=True)
class TickWindow:
    """What every step of a tick draws from: the seed, the scale and the window."""

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
