"""Shared fixtures: a throwaway warehouse per test session, isolated environment variables."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.database import service
from ingestion.database.connection import create_database, drop_database
from ingestion.database.durability import Durability
from ingestion.database.server_settings import connection_settings
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import (
    ENV_DATABASE,
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

SHOPFLOW_ENV = (
    ENV_HOST,
    ENV_PORT,
    ENV_USER,
    ENV_PASSWORD,
    ENV_DATABASE,
    ENV_OPS_DATABASE,
    ENV_HOME,
)


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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    yield home
    shutil.rmtree(root, ignore_errors=True)


def pytest_report_header() -> str:
    target = os.environ.get(ENV_HOST) or "local embedded server"
    return f"shopflow test server: {target}"
