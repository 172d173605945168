"""kill -9 at seeded moments of ingestion and of `dbt build`; the re-run equals a clean run.

A reference world is built and run once without interruption. Each ingestion trial builds
the same world (same seed and scale) from scratch, kills `shopflow ingest all` (its whole
process group: the CLI, dlt, the storefront API) at one seeded moment, runs it again to the
end and compares every raw table with the reference. `dbt build --full-refresh` is killed
the same way on the reference world itself; `shopflow run` afterwards must leave every built
table exactly as the clean build did. `shopflow run` twice with no change changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import private_world
from tests.reliability.support import (
    RAW_SCHEMAS,
    CliWorld,
    Digest,
    differing,
    seeded_moments,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

SCALE = "0.2"
"""The pipeline tests' scale: the smallest at which every recency test of the demo holds."""
BUILT_SCHEMAS = ("marts", "intermediate", "snapshots", "seeds")
"""The tables dbt builds (views are rebuilt from them; audit logs every run by design)."""
INGEST_KILLS = 10
DBT_KILLS = 3


@dataclass(frozen=True)
class Reference:
    world: CliWorld
    raw: Digest
    ingest_seconds: float


@dataclass(frozen=True)
class BuiltReference:
    world: CliWorld
    raw: Digest
    built: Digest
    build_seconds: float


def new_world(server: ConnectionSettings, root: Path) -> Iterator[CliWorld]:
    with private_world(server, root) as world:
        cli_world = CliWorld(world.settings, world.landing.parent)
        done = cli_world.run("simulate", "all", "--scale", SCALE)
        assert done.returncode == 0, done.stdout + done.stderr
        yield cli_world


@pytest.fixture(scope="module")
def reference(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    """The world ingested once, without interruption."""
    for world in new_world(server_settings, tmp_path_factory.mktemp("reference")):
        started = time.perf_counter()
        ingested = world.run("ingest", "all")
        assert ingested.returncode == 0, ingested.stdout + ingested.stderr
        yield Reference(world, world.digest(RAW_SCHEMAS), time.perf_counter() - started)


@pytest.fixture(scope="module")
def built_reference(reference: Reference) -> BuiltReference:
    """The reference world after one whole `shopflow run` (dbt build included)."""
    started = time.perf_counter()
    built = reference.world.run("run")
    assert built.returncode == 0, built.stdout + built.stderr
    return BuiltReference(
        reference.world,
        reference.world.digest(RAW_SCHEMAS),
        reference.world.digest(BUILT_SCHEMAS),
        time.perf_counter() - started,
    )


def test_a_second_run_with_no_change_changes_nothing(built_reference: BuiltReference) -> None:
    reference = built_reference
    assert differing(reference.raw, reference.world.digest(RAW_SCHEMAS)) == {}
    again = reference.world.run("run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert differing(reference.world.digest(RAW_SCHEMAS), reference.raw) == {}
    assert differing(reference.world.digest(BUILT_SCHEMAS), reference.built) == {}


@pytest.mark.parametrize(
    "moment", range(INGEST_KILLS), ids=[f"kill{i}" for i in range(INGEST_KILLS)]
)
def test_ingestion_killed_at_any_moment_then_rerun_equals_the_clean_run(
    reference: Reference,
    server_settings: ConnectionSettings,
    tmp_path: Path,
    moment: int,
) -> None:
    seconds = seeded_moments(INGEST_KILLS, 0.5, reference.ingest_seconds)[moment]
    for world in new_world(server_settings, tmp_path):
        killed = world.kill_after(seconds, "ingest", "all")
        rerun = world.run("ingest", "all", "--wait", "30")
        assert rerun.returncode == 0, rerun.stdout + rerun.stderr
        assert differing(world.digest(RAW_SCHEMAS), reference.raw) == {}, (
            f"killed after {seconds}s (before the end: {killed})"
        )


@pytest.mark.parametrize("moment", range(DBT_KILLS), ids=[f"kill{i}" for i in range(DBT_KILLS)])
def test_dbt_build_killed_at_any_moment_then_rerun_equals_the_clean_build(
    built_reference: BuiltReference, moment: int
) -> None:
    reference = built_reference
    seconds = seeded_moments(DBT_KILLS, 2.0, reference.build_seconds * 0.8)[moment]
    killed = reference.world.dbt_build_killed_after(seconds, "--full-refresh")
    rerun = reference.world.run("run", "--wait", "30")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert differing(reference.world.digest(BUILT_SCHEMAS), reference.built) == {}, (
        f"killed after {seconds}s (before the end: {killed})"
    )
    assert differing(reference.world.digest(RAW_SCHEMAS), reference.raw) == {}
