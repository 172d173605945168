"""A per-key sliding one-second window: more than N requests inside it are refused."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowRateLimiter:
    """Counts accepted requests per key over the last ``window_seconds``.

    Refused requests are not counted, so a client that waits ``Retry-After`` seconds
    always gets through again.
    """

    def __init__(
        self,
        limit: int,
        window_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit={limit} is below 1")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> int | None:
        """Record a request for ``key``; return None if allowed, else Retry-After seconds."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_seconds:
                hits.popleft()
            if len(hits) >= self.limit:
                wait = hits[0] + self.window_seconds - now
                return max(1, math.ceil(wait))
            hits.append(now)
            return None
