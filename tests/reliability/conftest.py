"""The reference world the reliability tests compare with: the demo built without faults."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import IngestWorld, private_world
from tests.reliability.support import RAW_SCHEMAS, CliWorld, Digest

INGEST_SCALE = "0.05"
"""Worlds that are only ingested: small, so that many crash trials stay quick."""
BUILD_SCALE = "0.2"
"""Worlds that dbt builds: the pipeline tests' scale, the smallest at which every recency
test of the demo holds."""
BUILT_SCHEMAS = ("marts", "intermediate", "snapshots", "seeds")
"""The tables dbt builds (views are rebuilt from them; audit logs every run by design)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``after_the_suite`` run last, so that they see what every other test
    left behind (the secret search)."""
    last = [item for item in items if item.get_closest_marker("after_the_suite")]
    items[:] = [item for item in items if item not in last] + last


def output_of(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


@dataclass(frozen=True)
class Reference:
    world: CliWorld
    raw: Digest
    ingest_seconds: float
    output: str
    """What the clean ingestion printed."""


@dataclass(frozen=True)
class BuiltReference:
    world: CliWorld
    raw: Digest
    built: Digest
    build_seconds: float
    output: str
    """What the whole clean `shopflow run` printed."""


def new_world(
    server: ConnectionSettings, root: Path, scale: str = INGEST_SCALE
) -> Iterator[CliWorld]:
    """A private world built by `shopflow simulate all` (seed 42), dropped afterwards."""
    with private_world(server, root) as world:
        cli_world = CliWorld(world.settings, world.landing.parent)
        done = cli_world.run("simulate", "all", "--scale", scale)
        assert done.returncode == 0, done.stdout + done.stderr
        yield cli_world


@pytest.fixture
def empty_world(server_settings: ConnectionSettings, tmp_path: Path) -> Iterator[IngestWorld]:
    """A private warehouse and operations DB with no world built, and an empty landing."""
    with private_world(server_settings, tmp_path) as created:
        yield created


@pytest.fixture(scope="package")
def reference(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    """A small world ingested once, without interruption."""
    for world in new_world(server_settings, tmp_path_factory.mktemp("reference")):
        started = time.perf_counter()
        ingested = world.run("ingest", "all")
        assert ingested.returncode == 0, output_of(ingested)
        seconds = time.perf_counter() - started
        yield Reference(world, world.digest(RAW_SCHEMAS), seconds, output_of(ingested))


@pytest.fixture(scope="package")
def built_reference(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BuiltReference]:
    """A world after one whole clean `shopflow run` (dbt build included)."""
    root = tmp_path_factory.mktemp("built-reference")
    for world in new_world(server_settings, root, BUILD_SCALE):
        started = time.perf_counter()
        built = world.run("run")
        assert built.returncode == 0, output_of(built)
        yield BuiltReference(
            world,
            world.digest(RAW_SCHEMAS),
            world.digest(BUILT_SCHEMAS),
            time.perf_counter() - started,
            output_of(built),
        )
