"""The same seed and scale give the same world, tick for tick and file for file."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.simulators.world import tick
from tests.simulators.world.support import World, WorldFactory

pytestmark = pytest.mark.integration

TABLES = (
    "storefront.products",
    "storefront.product_tags",
    "storefront.product_images",
    "storefront.product_reviews",
    "storefront.marketplace_sales",
    "ops.customers",
    "ops.orders",
    "ops.order_items",
    "ops.payments",
    "ops.deliveries",
    "sim.clock",
    "sim.id_sequences",
)


def table_checksums(world: World) -> dict[str, str]:
    """md5 of every row's text, in row order, per table."""
    return {
        table: world.query(
            f"select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) from {table} as t"
        )[0][0]
        for table in TABLES
    }


def file_checksums(root: Path) -> dict[str, str]:
    """md5 of every file under ``root``, by relative path."""
    return {
        str(path.relative_to(root)): hashlib.md5(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def build_and_tick(make_world: WorldFactory, seed: int) -> World:
    world = make_world(seed=seed, scale=0.05)
    tick(world.settings, 3, landing=world.landing)
    return world


def test_same_seed_and_scale_give_identical_tables_and_files(make_world: WorldFactory) -> None:
    first = build_and_tick(make_world, seed=3)
    second = build_and_tick(make_world, seed=3)

    assert table_checksums(first) == table_checksums(second)
    assert file_checksums(first.landing) == file_checksums(second.landing)
    assert len(file_checksums(first.landing)) > 10


def test_another_seed_gives_another_world(make_world: WorldFactory) -> None:
    first = make_world(seed=3, scale=0.05, files=False)
    other = make_world(seed=4, scale=0.05, files=False)

    first_sums, other_sums = table_checksums(first), table_checksums(other)
    assert first_sums["ops.orders"] != other_sums["ops.orders"]
    assert first_sums["ops.customers"] != other_sums["ops.customers"]


def test_the_text_pools_do_not_depend_on_the_process_hash_seed() -> None:
    """Two processes (as two `shopflow simulate` runs are) draw the same names and places."""
    script = (
        "from ingestion.simulators.world.name_pools import name_pools; p = name_pools(42);"
        "print(sorted((k, list(v.cities), list(v.streets), list(v.first_names))"
        " for k, v in p.countries.items()), list(p.review_sentences))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2", "3")
    }
    assert len(outputs) == 1
