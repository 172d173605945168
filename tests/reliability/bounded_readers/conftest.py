"""One world for the folder: a clean ingestion of a few good files first (the reference), then
each case drops its hostile entry beside them and ingests again."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import private_world
from tests.reliability.bounded_readers.landing import GOOD_FILES, SECRET, SPEND_HEADER, Landing
from tests.reliability.landing_lines import event, line
from tests.reliability.support import CliWorld


@pytest.fixture(scope="package")
def landing(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Landing]:
    root = tmp_path_factory.mktemp("bounded-readers")
    with private_world(server_settings, root) as world:
        outside = root / "outside"
        outside.mkdir()
        (outside / "credentials.json").write_text(json.dumps({"password": SECRET}) + "\n")
        yield Landing(world, CliWorld(world.settings, world.landing.parent), outside)


@pytest.fixture(scope="package")
def clean(landing: Landing) -> tuple[tuple[int, str], tuple[int, str]]:
    """The clean run of the good files: the events and spend every case must leave."""
    landing.drop(GOOD_FILES[0], b"\n".join(line(event(f"good-{n}")) for n in range(3)) + b"\n")
    rows = [f"2026-01-01,web,spring,{n}.50,EUR,100,{n}" for n in range(2)]
    rows[1] = rows[1].replace("spring", "summer")
    landing.drop(GOOD_FILES[1], "\n".join([SPEND_HEADER, *rows, ""]).encode())
    assert landing.world.ingest("files").ok
    return landing.events_table(), landing.spend_table()
