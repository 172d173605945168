"""Shared fixtures: a throwaway warehouse per test session, isolated environment variables,
one real pipeline run per session, an alert receiver.

`built_warehouse` runs `shopflow run` (simulate -> ingest -> dbt build -> docs) once, at a
small scale, on this session's throwaway databases, with its own landing zone and dbt
target folder; the end-to-end tests (tests/pipeline) and the engine parity tests
(tests/spark) read it. Tests that need a second run (after a tick) use `ticked_warehouse`,
which builds on the first.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ingestion.benchmarking.cli_world import cli_environment
from ingestion.cli.app import app
from ingestion.database import service
from ingestion.database.connection import create_database, drop_database
from ingestion.database.durability import Durability
from ingestion.database.server_settings import connection_settings
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import (
    ENV_DATABASE,
    ENV_DBT_PROFILES_DIR,
    ENV_DBT_TARGET_PATH,
    ENV_EXPORT_DIR,
    ENV_HOME,
    ENV_HOST,
    ENV_LANDING_DIR,
    ENV_OPS_DATABASE,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_REPORT_DIR,
    ENV_SCHEMA_PREFIX,
    ENV_USER,
    ConnectionSettings,
)
from ingestion.transform.slim_ci import production_state_dir
from tests.alerting import Receiver, json_receiver
from tests.environment import SHOPFLOW_ENV
from tests.worlds import PIPELINE_SCALE, TICK_DAYS, BuiltWarehouse, move_first_customer_twice

# Settings a developer's shell may carry that would steer tests away from their own world:
# an external storefront API, a real alert webhook, dlt destination overrides, CI schemas.
LEAKY_ENV_PREFIXES = ("STOREFRONT_", "SOURCES__", "DESTINATION__", "SHOPFLOW_ALERT_")
LEAKY_ENV_NAMES = (
    ENV_SCHEMA_PREFIX,
    ENV_LANDING_DIR,
    ENV_EXPORT_DIR,
    ENV_REPORT_DIR,
    ENV_DBT_TARGET_PATH,
)


@pytest.fixture(scope="session", autouse=True)
def no_leaking_environment() -> Iterator[None]:
    """Remove, for the whole session, variables that would point tests at outside things."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith(LEAKY_ENV_PREFIXES) or name in LEAKY_ENV_NAMES:
                patch.delenv(name)
        yield


@pytest.fixture(scope="session")
def server_settings() -> ConnectionSettings:
    """The server the tests use: the configured external one, else the local one (started),
    switched to fast mode explicitly: every test database is thrown away (docs/database.md)."""
    return service.ensure_ready(connection_settings(), durability=Durability.FAST).settings


@pytest.fixture(scope="session")
def warehouse(server_settings: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """A throwaway warehouse and operations database for this test session, dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    settings = server_settings.with_databases(
        f"shopflow_test_{suffix}", f"shopflow_test_{suffix}_ops"
    )
    create_database(settings, settings.database)
    create_database(settings, settings.ops_database)
    yield settings
    drop_database(settings, settings.database)
    drop_database(settings, settings.ops_database)
    # local state kept per warehouse database: dlt's pipeline folders, the published manifest
    shutil.rmtree(pipelines_dir(settings), ignore_errors=True)
    shutil.rmtree(production_state_dir(settings), ignore_errors=True)


@pytest.fixture(scope="session")
def session_files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This session's own landing zone and dbt target/, never the developer's."""
    return tmp_path_factory.mktemp("session-files")


@pytest.fixture
def warehouse_env(
    warehouse: ConnectionSettings, session_files_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> ConnectionSettings:
    """Point SHOPFLOW_PG_*, the landing zone and dbt's target path at this session's own."""
    monkeypatch.setenv("SHOPFLOW_LANDING_DIR", str(session_files_dir / "landing"))
    monkeypatch.setenv("DBT_TARGET_PATH", str(session_files_dir / "dbt-target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(session_files_dir / "dbt-logs"))
    values = {
        ENV_HOST: warehouse.host if warehouse.external else "",
        ENV_PORT: str(warehouse.port),
        ENV_USER: warehouse.user,
        ENV_PASSWORD: warehouse.password,
        ENV_DATABASE: warehouse.database,
        ENV_OPS_DATABASE: warehouse.ops_database,
    }
    for name, value in values.items():
        if value:
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    return warehouse


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No SHOPFLOW_* variable from the caller leaks in; local state goes to a temporary folder.

    The folder is made with `tempfile.mkdtemp`, not pytest's `tmp_path`: a server started
    there runs as another user when we are root, and pytest resets its own base folder to
    mode 0700 whenever a pytest session starts, which would lock that server out.
    """
    for name in SHOPFLOW_ENV:
        monkeypatch.delenv(name, raising=False)
    root = Path(tempfile.mkdtemp(prefix="shopflow-test-home-"))
    home = root / "shopflow-home"
    monkeypatch.setenv(ENV_HOME, str(home))
    # `shopflow db start` writes dbt's profile for its server here, not over the repo's
    monkeypatch.setenv(ENV_DBT_PROFILES_DIR, str(root))
    yield home
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pipeline_env(
    warehouse: ConnectionSettings, session_files_dir: Path
) -> Iterator[dict[str, str]]:
    """Environment variables pointing the CLI at the session's databases and folders."""
    env = cli_environment(warehouse, session_files_dir)
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
    """The warehouse after the sources moved on a week and the pipeline ran again; its first
    customer moved twice in between (``move_first_customer_twice``)."""
    move_first_customer_twice(built_warehouse.settings)
    result = CliRunner().invoke(app, ["run", "--tick", TICK_DAYS])
    assert result.exit_code == 0, result.output
    return built_warehouse, result


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A JSON alert receiver on 127.0.0.1 (tests/alerting.py)."""
    with json_receiver() as state:
        yield state


def pytest_report_header() -> str:
    target = os.environ.get(ENV_HOST) or "local embedded server"
    return f"shopflow test server: {target}"
