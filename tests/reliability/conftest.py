"""The reference worlds as package-wide fixtures (what they are: references.py), and the
`after_the_suite` order."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import IngestWorld, private_world
from tests.reliability.references import (
    BUILD_SCALE,
    BUILT_SCHEMAS,
    BuiltReference,
    Reference,
    new_world,
    output_of,
)
from tests.reliability.support import RAW_SCHEMAS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``after_the_suite`` run last, so that they see what every other test
    left behind (the secret search)."""
    last = [item for item in items if item.get_closest_marker("after_the_suite")]
    items[:] = [item for item in items if item not in last] + last


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
