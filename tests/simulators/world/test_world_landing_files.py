"""Landing files: names, JSON keys and CSV header per the contract; purchases match orders."""

from __future__ import annotations

import csv
import json
import re
from datetime import UTC, datetime

import pytest

from tests.simulators.world.support import World

pytestmark = pytest.mark.integration

EVENT_KEYS = [
    "event_id",
    "timestamp",
    "event_name",
    "user_identifiers",
    "product_information",
    "order_id",
]
SPEND_HEADER = ["date", "channel", "campaign", "spend", "currency", "impressions", "clicks"]


def events(world: World) -> list[dict]:
    """Every event of the world's 2025 drop."""
    return [
        json.loads(line)
        for path in sorted((world.landing / "clickstream").glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_file_names_follow_the_contract(world: World) -> None:
    event_files = sorted(p.name for p in (world.landing / "clickstream").iterdir())
    spend_files = sorted(p.name for p in (world.landing / "marketing_spend").iterdir())

    assert all(re.fullmatch(r"events_2025\d{4}_1\.jsonl", name) for name in event_files)
    assert len(event_files) == 53  # 7-day slices of 2025
    assert all(re.fullmatch(r"spend_2025\d{4}\.csv", name) for name in spend_files)
    assert len(spend_files) == 365


def test_events_have_exactly_the_contract_keys(world: World) -> None:
    rows = events(world)

    assert rows
    for row in rows:
        assert list(row) == EVENT_KEYS
        assert list(row["user_identifiers"]) == ["platform", "id"]
        assert list(row["product_information"]) == ["name", "SKU"]
        assert row["event_name"] in {"view", "click", "add_to_cart", "purchase"}
        assert row["user_identifiers"]["platform"] in {"web", "app"}
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row["timestamp"])
        assert (row["order_id"] is not None) == (row["event_name"] == "purchase")
    assert len({row["event_id"] for row in rows}) == len(rows)


def test_spend_files_have_the_contract_header(world: World) -> None:
    for path in sorted((world.landing / "marketing_spend").glob("*.csv")):
        with path.open(newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == SPEND_HEADER
        day = path.stem.removeprefix("spend_")
        assert {row[0].replace("-", "") for row in rows[1:]} == {day}
        assert {row[1] for row in rows[1:]} <= {"web", "app", "marketplace"}


def test_purchase_events_match_web_and_app_order_lines(world: World) -> None:
    lines = {
        (order_id, str(customer_id), sku, ordered_at.astimezone(UTC), channel)
        for order_id, customer_id, sku, ordered_at, channel in world.query(
            "select o.order_id, o.customer_id, i.sku, o.ordered_at, o.channel "
            "from ops.orders as o inner join ops.order_items as i on i.order_id = o.order_id "
            "where o.channel in ('web', 'app')"
        )
    }
    purchases = {
        (
            row["order_id"],
            row["user_identifiers"]["id"],
            row["product_information"]["SKU"],
            datetime.fromisoformat(row["timestamp"]),
            row["user_identifiers"]["platform"],
        )
        for row in events(world)
        if row["event_name"] == "purchase"
    }

    assert purchases == lines


def test_a_view_precedes_every_purchase_and_some_sessions_are_abandoned(world: World) -> None:
    rows = events(world)
    first_view: dict[tuple[str, str], str] = {}
    for row in rows:
        if row["event_name"] == "view":
            key = (row["user_identifiers"]["id"], row["product_information"]["SKU"])
            first_view[key] = min(first_view.get(key, row["timestamp"]), row["timestamp"])
    buyers = set()
    for row in rows:
        if row["event_name"] == "purchase":
            key = (row["user_identifiers"]["id"], row["product_information"]["SKU"])
            assert first_view[key] < row["timestamp"]
            buyers.add(key)

    assert set(first_view) - buyers  # views that never led to a purchase
