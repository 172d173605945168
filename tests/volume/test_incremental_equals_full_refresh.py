"""At volume, incremental builds end where a full refresh does: every mart is equal.

A fresh world at ``VOLUME_SCALE`` in throwaway databases, driven through the CLI as a user
drives it (the scale benchmark's ``throwaway_world``): `shopflow run --scale`, then
``TICKS`` times `shopflow run --tick 1` (which must change some mart), a checksum of every
mart (row count and an order-independent hash of all columns but run metadata),
`shopflow run --full-refresh`, and the checksums again. Slow (`make test-volume`);
``SHOPFLOW_VOLUME_SCALE`` runs it smaller.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingestion.benchmarking.cli_world import throwaway_world
from ingestion.settings import ConnectionSettings
from ingestion.spark.mart_checksums import Checksum, differences, mart_checksums

pytestmark = [pytest.mark.volume, pytest.mark.integration, pytest.mark.slow]

VOLUME_SCALE = 10.0
ENV_VOLUME_SCALE = "SHOPFLOW_VOLUME_SCALE"
"""Overrides ``VOLUME_SCALE``, e.g. 0.3 to check the test's plumbing quickly."""
TICKS = 3


def volume_scale() -> str:
    return os.environ.get(ENV_VOLUME_SCALE) or f"{VOLUME_SCALE:g}"


def describe(names: list[str], before: dict[str, Checksum], after: dict[str, Checksum]) -> str:
    return "; ".join(
        f"{name}: incremental {before.get(name)} != full {after.get(name)}" for name in names
    )


def test_incremental_builds_equal_a_full_refresh(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with throwaway_world(server_settings, tmp_path, prefix="shopflow_volume_") as world:
        world.run("run", "--scale", volume_scale())
        first = mart_checksums(world.settings)
        for _ in range(TICKS):
            world.run("run", "--tick", "1")
        incremental = mart_checksums(world.settings)
        world.run("run", "--full-refresh")
        rebuilt = mart_checksums(world.settings)
    assert incremental, "the build left no relation in the marts schema"
    assert differences(first, incremental), "the ticks changed no mart: nothing incremental ran"
    assert incremental.keys() == rebuilt.keys()
    differing = differences(incremental, rebuilt)
    assert not differing, describe(differing, incremental, rebuilt)
