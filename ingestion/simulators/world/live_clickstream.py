"""Live clickstream: the landing files' generator, as messages for the broker.

`shopflow simulate stream` times the events at the simulated world's business clock
(``business_now``), not the wall clock: the warehouse's business clock is the latest activity
of any source, so events stamped with today's date on a world whose orders end months earlier
would move "today" for every mart (and fail the recency tests of the nightly build). The
benchmark and the tests pass windows of their own.

Sessions come from the same functions as the landing files (``clickstream``): abandoned
sessions and sessions that end in a purchase, over the world's customers and catalogue (read
from the operations DB, like a landing drop). The purchases are live orders the operations DB
does not hold yet: their ``order_id`` starts at ``LIVE_ORDER_IDS``. Each event is one message
in the documented nested shape (``json_lines``), its ``Nats-Msg-Id`` the ``event_id``.

Faults, all off by default, bend the stream the way trackers go wrong:

- ``duplicates``: that share of events is sent a second time with another message id (a
  tracker's retry the broker cannot recognise), later in the stream;
- ``late_minutes``: 2% of events carry a time up to that many minutes before the moment they
  are sent (out of order, late);
- ``malformed``: that many extra messages that are not valid events (cut JSON, no
  ``event_id``, an impossible timestamp, not an object), spread through the stream.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.clickstream import (
    abandoned_events,
    json_lines,
    json_titles,
    order_events,
    with_event_ids,
)
from ingestion.simulators.world.landing import browsing, read_sources
from ingestion.simulators.world.sim_state import ops_transaction, require_clock

log = logging.getLogger(__name__)

LIVE_ORDER_IDS = 10**12
"""First ``order_id`` of a live purchase: far above the operations DB's ids."""
EVENTS_PER_SESSION = 4.0
"""About how many events one simulated session makes (views, clicks, carts, purchase)."""
LATE_SHARE = 0.02
MALFORMED_SHAPES = (
    '{"event_id": "cut-',
    '{"event_name": "view", "timestamp": "2026-01-01T00:00:00Z"}',
    '{"event_id": "bad-time-{n}", "event_name": "view", "timestamp": "not a time"}',
    '["not", "an", "object"]',
)


@dataclass(frozen=True)
class StreamFaults:
    """Which faults to put into a live stream (all off by default)."""

    duplicates: float = 0.0
    late_minutes: int = 0
    malformed: int = 0


@dataclass(frozen=True)
class StreamMessage:
    """One message to publish: its broker-side dedup id, its body, its event time (epoch s)."""

    message_id: str
    payload: bytes
    event_at: int


def _sessions(
    rng: np.random.Generator,
    customers: pd.DataFrame,
    skus: np.ndarray,
    weights: np.ndarray,
    count: int,
    window: tuple[int, int],
) -> pd.DataFrame:
    """At least ``count`` events in ``window``: half the sessions end in a live purchase."""
    start, end = window
    parts: list[pd.DataFrame] = []
    made, next_order = 0, LIVE_ORDER_IDS
    registered = customers["customer_id"].to_numpy(dtype=np.int64)
    while made < count:
        sessions = max(1, int((count - made) / EVENTS_PER_SESSION / 2) + 1)
        lines = pd.DataFrame(
            {
                "order_id": np.arange(next_order, next_order + sessions, dtype=np.int64),
                "customer_id": rng.choice(registered, size=sessions),
                "channel": np.where(rng.random(sessions) < 0.6, "web", "app").astype(object),
                "ordered_at": rng.integers(start, end, size=sessions, dtype=np.int64),
                "sku": skus[rng.choice(len(skus), size=sessions, p=weights)],
            }
        )
        next_order += sessions
        part = pd.concat(
            [
                order_events(rng, lines, skus, weights),
                abandoned_events(rng, customers, skus, weights, sessions, start, end),
            ],
            ignore_index=True,
        )
        parts.append(part)
        made += len(part)
    events = pd.concat(parts, ignore_index=True)
    # sessions start before the window (views precede purchases by up to 40 minutes): time is
    # squeezed into the window, keeping every session's order and the funnel's shape
    times = events["timestamp"].to_numpy(dtype=np.int64)
    low, high = int(times.min()), int(times.max())
    squeezed = start + (times - low) * (end - start - 1) // max(1, high - low)
    return events.assign(timestamp=squeezed.astype(np.int64))


def business_now(settings: ConnectionSettings) -> int:
    """The simulated world's business time (epoch seconds): where its live events happen."""
    with ops_transaction(settings) as cur:
        return require_clock(cur).business_time


def live_messages(
    settings: ConnectionSettings,
    count: int,
    window: tuple[int, int],
    faults: StreamFaults | None = None,
    seed: int | None = None,
) -> list[StreamMessage]:
    """``count`` events timed in ``window`` (epoch seconds, end excluded), in send order,
    plus the faults' extra messages. ``seed``: the same seed gives the same messages."""
    faults = faults or StreamFaults()
    rng = np.random.default_rng(seed)
    with ops_transaction(settings) as cur:
        clock = require_clock(cur)
        sources = read_sources(cur, window[0], window[1])
    skus, weights = browsing(clock.seed, sources.products)
    titles = json_titles(dict(zip(sources.products["sku"], sources.products["title"], strict=True)))
    events = _sessions(rng, sources.customers, skus, weights, count, window)
    events = with_event_ids(rng, events).iloc[:count].reset_index(drop=True)
    send_at = events["timestamp"].to_numpy().copy()
    if faults.late_minutes:
        late = rng.random(len(events)) < LATE_SHARE
        shift = rng.integers(1, faults.late_minutes * 60 + 1, size=int(late.sum()))
        events.loc[late, "timestamp"] = events.loc[late, "timestamp"] - shift
    bodies = json_lines(events, titles)
    ids = events["event_id"].tolist()
    messages = [
        StreamMessage(event_id, body.encode("utf-8"), int(at))
        for event_id, body, at in zip(ids, bodies, send_at, strict=True)
    ]
    if faults.duplicates:
        again = np.flatnonzero(rng.random(len(messages)) < faults.duplicates)
        for index in again:
            original = messages[index]
            later = min(len(messages), int(index) + int(rng.integers(1, 500)))
            messages.insert(
                later,
                StreamMessage(f"{original.message_id}:again", original.payload, original.event_at),
            )
    for number in range(faults.malformed):
        shape = MALFORMED_SHAPES[number % len(MALFORMED_SHAPES)].replace("{n}", str(number))
        at = int(rng.integers(0, len(messages) + 1))
        event_at = messages[min(at, len(messages) - 1)].event_at if messages else window[0]
        message_id = f"malformed-{int(rng.integers(1 << 62)):x}"
        messages.insert(at, StreamMessage(message_id, shape.encode(), event_at))
    log.info("generated %d live events (%d messages with faults)", len(events), len(messages))
    return messages
