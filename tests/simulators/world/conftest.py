"""Fixtures for the simulated world: small worlds in their own throwaway ops databases.

Each world gets an ops database of its own (named after the session's throwaway one), so
these tests never collide with other tests that use the session's ops database.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ingestion.database.connection import create_database, drop_database
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world import build_world, write_landing_files
from tests.simulators.world.support import SMALL_SCALE, World, WorldFactory


@pytest.fixture(scope="session")
def make_world(
    warehouse: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorldFactory]:
    """Build worlds on demand (each in a new ops database, dropped at the end of the session)."""
    created: list[ConnectionSettings] = []

    def factory(seed: int = 7, scale: float = SMALL_SCALE, files: bool = True) -> World:
        name = f"{warehouse.ops_database}_w{uuid.uuid4().hex[:6]}"
        settings = warehouse.with_databases(warehouse.database, name)
        create_database(settings, name)
        created.append(settings)
        landing = tmp_path_factory.mktemp("landing")
        build_world(settings, seed, scale)
        if files:
            write_landing_files(settings, landing=landing)
        return World(settings, landing)

    yield factory
    for settings in created:
        drop_database(settings, settings.ops_database)


@pytest.fixture(scope="module")
def world(make_world: WorldFactory) -> World:
    """One freshly built world (scale 0.1, seed 7) with its 2025 files, shared by a module."""
    return make_world()
