"""One real pipeline run per test session, shared by the end-to-end and dbt-level tests.

`built_warehouse` runs `shopflow run` (simulate -> ingest -> dbt build -> docs) once, at a
small scale, on this session's throwaway databases, with its own landing zone and dbt
target folder. Tests that need a second run (after a tick) use `ticked_warehouse`, which
builds on the first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ingestion.benchmarking.cli_world import cli_environment as pipeline_environment
from ingestion.cli.app import app
from ingestion.database.connection import autocommit
from ingestion.settings import ENV_HOST, ConnectionSettings

PIPELINE_SCALE = "0.2"
TICK_DAYS = "7"


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: ConnectionSettings
    target_dir: Path
    first_run: Result

    def query(self, statement: str) -> list[tuple]:
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())

    def execute(self, statement: str) -> None:
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(statement)

    def scalar(self, statement: str) -> object:
        return self.query(statement)[0][0]


@pytest.fixture(scope="session")
def pipeline_env(
    warehouse: ConnectionSettings, session_files_dir: Path
) -> Iterator[dict[str, str]]:
    """Environment variables pointing the CLI at the session's databases and folders."""
    env = pipeline_environment(warehouse, session_files_dir)
    with pytest.MonkeyPatch.context() as patch:
        if not warehouse.external:
            patch.delenv(ENV_HOST, raising=False)
        for name, value in env.items():
            patch.setenv(name, value)
        yield env


@pytest.fixture(scope="session")
def built_warehouse(warehouse: ConnectionSettings, pipeline_env: dict[str, str]) -> BuiltWarehouse:
    result = CliRunner().invoke(app, ["run", "--scale", PIPELINE_SCALE])
    assert result.exit_code == 0, result.output
    return BuiltWarehouse(warehouse, Path(pipeline_env["DBT_TARGET_PATH"]), result)


@pytest.fixture(scope="session")
def ticked_warehouse(built_warehouse: BuiltWarehouse) -> tuple[BuiltWarehouse, Result]:
    """The warehouse after the sources moved on a week and the pipeline ran again."""
    result = CliRunner().invoke(app, ["run", "--tick", TICK_DAYS])
    assert result.exit_code == 0, result.output
    return built_warehouse, result
