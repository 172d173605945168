"""The pure parts of the world (no database): hashed draws, lifecycles, uuids, JSON lines."""

from __future__ import annotations

import itertools
import json
import re

import numpy as np
import pandas as pd

from ingestion.simulators.world.clickstream import json_lines, json_titles
from ingestion.simulators.world.order_lifecycle import (
    delivery_states,
    order_states,
    payment_states,
    schedule_orders,
)
from ingestion.simulators.world.randomness import (
    Stream,
    keyed_uniforms,
    sample_times,
    uuid_strings,
)
from ingestion.simulators.world.reference_data import BUSINESS_YEAR_START, DAY
from tests.simulators.world.support import DELIVERY_PATHS, ORDER_PATHS, PAYMENT_PATHS, reachable


def test_keyed_uniforms_are_a_pure_function_of_seed_and_key() -> None:
    keys = np.arange(1, 1001)
    first = keyed_uniforms(42, keys, Stream.ORDER_LIFECYCLE, 3)
    again = keyed_uniforms(42, keys[::-1], Stream.ORDER_LIFECYCLE, 3)[::-1]
    other_seed = keyed_uniforms(43, keys, Stream.ORDER_LIFECYCLE, 3)

    assert first.shape == (1000, 3)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other_seed)
    assert first.min() >= 0 and first.max() < 1 and 0.45 < first.mean() < 0.55


def test_sample_times_stay_in_the_window_and_are_sorted() -> None:
    rng = np.random.default_rng(1)
    start = BUSINESS_YEAR_START + 5 * 3600
    times = sample_times(rng, 5000, start, start + 3 * DAY)

    assert times.min() >= start and times.max() < start + 3 * DAY
    assert np.all(np.diff(times) >= 0)


def test_uuids_are_well_formed_version_4() -> None:
    ids = uuid_strings(np.random.default_rng(3), 500)

    pattern = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    assert all(pattern.match(value) for value in ids)
    assert len(set(ids)) == 500


def test_lifecycles_only_move_along_the_contract_paths() -> None:
    count = 20_000
    ordered_at = BUSINESS_YEAR_START + np.arange(count) * 60
    currencies = np.array(["USD", "EUR", "GBP", "CAD", "AUD"] * (count // 5), dtype=object)
    schedule = schedule_orders(42, np.arange(1, count + 1), ordered_at, currencies)
    checkpoints = [ordered_at[0] + hours * 3600 for hours in (0, 6, 30, 80, 200, 500, 1200)]

    def keyed(frame: pd.DataFrame) -> dict[int, str]:
        return dict(zip(frame["order_id"], frame["status"], strict=True))

    for earlier, later in itertools.pairwise(checkpoints):
        before, after = order_states(schedule, earlier), order_states(schedule, later)
        for old, new in zip(before["status"], after["status"], strict=True):
            assert new in reachable(ORDER_PATHS, old), (old, new)
        for paths, states in ((PAYMENT_PATHS, payment_states), (DELIVERY_PATHS, delivery_states)):
            old_map, new_map = keyed(states(schedule, earlier)), keyed(states(schedule, later))
            assert set(old_map) <= set(new_map)
            for order_id, new in new_map.items():
                assert new in reachable(paths, old_map.get(order_id)), (old_map.get(order_id), new)

    final = order_states(schedule, checkpoints[-1])["status"].value_counts(normalize=True)
    assert final["delivered"] > 0.85
    assert {"cancelled", "refunded"} <= set(final.index)


def test_updated_at_never_lies_in_the_future_of_the_state() -> None:
    ordered_at = BUSINESS_YEAR_START + np.arange(2000) * 600
    schedule = schedule_orders(5, np.arange(1, 2001), ordered_at, np.full(2000, "EUR", object))
    at = ordered_at[1000]
    states = order_states(schedule, at)
    placed = ordered_at < at

    assert np.all(states["updated_at"].to_numpy()[placed] < at)
    assert np.all(states["updated_at"].to_numpy()[placed] >= ordered_at[placed])


def test_json_lines_escape_titles_and_keep_the_contract_shape() -> None:
    events = pd.DataFrame(
        {
            "event_id": ["a", "b"],
            "timestamp": [BUSINESS_YEAR_START, BUSINESS_YEAR_START + 1],
            "event_name": ["view", "purchase"],
            "platform": ["web", "app"],
            "customer_id": [5, 6],
            "sku": ["SKU-000001", "SKU-000002"],
            "order_id": [-1, 99],
        }
    )
    titles = {"SKU-000001": 'The "Quoted" \\ Lamp', "SKU-000002": "Plain"}

    first, second = (json.loads(line) for line in json_lines(events, json_titles(titles)))

    assert first == {
        "event_id": "a",
        "timestamp": "2025-01-01T00:00:00Z",
        "event_name": "view",
        "user_identifiers": {"platform": "web", "id": "5"},
        "product_information": {"name": 'The "Quoted" \\ Lamp', "SKU": "SKU-000001"},
        "order_id": None,
    }
    assert second["order_id"] == 99 and second["user_identifiers"]["id"] == "6"
