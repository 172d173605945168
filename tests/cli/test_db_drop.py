"""`shopflow db drop --confirm NAME`: a throwaway world's two databases and its local state go;
a wrong name, or a run holding the warehouse, drops nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database.connection import create_database, database_exists, drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ENV_DATABASE, ENV_OPS_DATABASE, ConnectionSettings
from ingestion.stage_runner.run_lock import run_lock
from ingestion.transform.slim_ci import production_state_dir

pytestmark = pytest.mark.integration


@pytest.fixture
def world(
    server_settings: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConnectionSettings]:
    name = f"shopflow_drop_{uuid.uuid4().hex[:8]}"
    settings = server_settings.with_databases(name, f"{name}_ops")
    for database in (settings.database, settings.ops_database):
        create_database(settings, database)
    for folder in (pipelines_dir(settings), production_state_dir(settings)):
        folder.mkdir(parents=True)
        (folder / "state.json").write_text("{}")
    monkeypatch.setenv(ENV_DATABASE, settings.database)
    monkeypatch.setenv(ENV_OPS_DATABASE, settings.ops_database)
    yield settings
    for database in (settings.database, settings.ops_database):
        drop_database(settings, database)


def exists(settings: ConnectionSettings) -> list[bool]:
    return [
        database_exists(settings, settings.database),
        database_exists(settings, settings.ops_database),
        pipelines_dir(settings).exists(),
        production_state_dir(settings).exists(),
    ]


def test_the_named_world_goes_whole(world: ConnectionSettings) -> None:
    result = CliRunner().invoke(app, ["db", "drop", "--confirm", world.database])
    assert result.exit_code == 0, result.output
    assert exists(world) == [False] * 4
    assert f"Dropped {world.database} and {world.ops_database}" in result.output


def test_a_wrong_name_drops_nothing(world: ConnectionSettings) -> None:
    result = CliRunner().invoke(app, ["db", "drop", "--confirm", "shopflow"])
    assert result.exit_code == 1
    assert "nothing was dropped" in " ".join(result.output.split())
    assert exists(world) == [True] * 4


def test_a_run_holding_the_warehouse_keeps_it(world: ConnectionSettings) -> None:
    with run_lock(world, "run", wait_seconds=0):
        result = CliRunner().invoke(app, ["db", "drop", "--confirm", world.database])
    assert result.exit_code == 1
    assert "Another run holds the run lock" in " ".join(result.output.split())
    assert exists(world) == [True] * 4
