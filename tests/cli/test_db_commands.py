"""`shopflow db ...` as a person runs it, against local and external servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database import service
from ingestion.database.server_settings import connection_settings
from ingestion.settings import (
    ENV_HOME,
    ENV_HOST,
    ENV_PASSWORD,
    ENV_PORT,
    ConnectionSettings,
)
from tests.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

runner = CliRunner()


@pytest.fixture
def other_server(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ConnectionSettings]:
    """An embedded server in its own home on another port, to play the external server."""
    monkeypatch.setenv(ENV_PORT, str(free_port()))
    ready = service.ensure_ready()
    yield ready.settings
    monkeypatch.setenv(ENV_HOME, str(isolated_env))
    monkeypatch.delenv(ENV_HOST, raising=False)
    monkeypatch.setenv(ENV_PORT, str(ready.settings.port))
    service.stop_local()


def use_external(
    monkeypatch: pytest.MonkeyPatch, server: ConnectionSettings, tmp_path: Path
) -> Path:
    """Configure `server` as external; the local home points elsewhere: nothing may start there."""
    other_home = tmp_path / "not-used"
    monkeypatch.setenv(ENV_HOME, str(other_home))
    monkeypatch.setenv(ENV_HOST, server.host)
    monkeypatch.setenv(ENV_PORT, str(server.port))
    monkeypatch.setenv(ENV_PASSWORD, server.password)
    return other_home


def test_local_start_status_url_stop(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_PORT, str(free_port()))
    try:
        first = runner.invoke(app, ["db", "start"])
        second = runner.invoke(app, ["db", "start"])
        status = runner.invoke(app, ["db", "status"])
        url = runner.invoke(app, ["db", "url"]).output.strip()
        ops_url = runner.invoke(app, ["db", "url", "--ops"]).output.strip()
    finally:
        stopped = runner.invoke(app, ["db", "stop"])

    assert first.exit_code == 0 and "Started the local server" in first.output
    assert second.exit_code == 0 and "already runs" in second.output
    assert status.exit_code == 0 and "running" in status.output
    assert stopped.exit_code == 0 and "Stopped" in stopped.output
    assert url.endswith("/shopflow") and ops_url.endswith("/shopflow_ops")
    after = runner.invoke(app, ["db", "status"])
    assert after.exit_code == 3 and "stopped" in after.output


def test_external_server_is_used_and_nothing_started(
    other_server: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    other_home = use_external(monkeypatch, other_server, tmp_path)

    started = runner.invoke(app, ["db", "start"])
    status = runner.invoke(app, ["db", "status"])
    url = runner.invoke(app, ["db", "url"]).output.strip()
    stop = runner.invoke(app, ["db", "stop"])

    assert started.exit_code == 0, started.output
    assert "external server" in started.output and "nothing started" in started.output
    assert not (other_home / "pg").exists()
    assert status.exit_code == 0 and "up" in status.output
    assert "nothing to stop" in stop.output
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select inet_server_port()")
        assert cur.fetchone() == (other_server.port,)


def test_wrong_password_is_said_plainly(
    other_server: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    use_external(monkeypatch, other_server, tmp_path)
    monkeypatch.setenv(ENV_PASSWORD, "not-the-password")

    result = runner.invoke(app, ["db", "start"])

    assert result.exit_code == 1
    assert "password" in result.output and "rejected" in result.output
    assert "Traceback" not in result.output


def test_unreachable_external_server_names_host_and_port(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv(ENV_HOST, "127.0.0.1")
    monkeypatch.setenv(ENV_PORT, str(port))
    monkeypatch.setenv(ENV_PASSWORD, "irrelevant")

    result = runner.invoke(app, ["db", "start"])

    assert result.exit_code == 1
    assert f"127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "passed_on", "ops"),
    [
        (["-c", "select 1"], ["-c", "select 1"], False),
        (["--ops", "--", "-At", "-c", "select 1"], ["-At", "-c", "select 1"], True),
        (["-X", "--ops", "--set", "ON_ERROR_STOP=1"], ["-X", "--set", "ON_ERROR_STOP=1"], True),
    ],
)
def test_psql_passes_its_extra_arguments_on(
    isolated_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    passed_on: list[str],
    ops: bool,
) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr("ingestion.cli.db.os.execv", lambda path, argv: calls.append(argv))

    result = runner.invoke(app, ["db", "psql", *args])

    assert result.exit_code == 0, result.output
    settings = connection_settings()
    assert calls == [[calls[0][0], settings.ops_url if ops else settings.warehouse_url, *passed_on]]
    assert calls[0][0].endswith("/psql")
