"""A local server started on another port is found by a new shell that does not set the port.

Every command here is `shopflow` in its own process, as in a new terminal: the first one sets
``SHOPFLOW_PG_PORT``, the others do not, and still reach the server on its real port.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.database.server_settings import connection_settings, local_server_record_file
from ingestion.settings import (
    ENV_ENV_FILE,
    ENV_NAMES,
    ENV_PORT,
    REPO_ROOT,
)
from ingestion.transform.dbt_profile import render_profile
from tests.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SHOPFLOW = str(Path(sys.executable).with_name("shopflow"))
REPO_PROFILE = REPO_ROOT / "profiles.yml"


def shell(home: Path, port: int | None = None) -> dict[str, str]:
    """A new shell's environment: no project variable but the state folder (and the port)."""
    env = {name: value for name, value in os.environ.items() if name not in ENV_NAMES}
    env.update({"SHOPFLOW_HOME": str(home), ENV_ENV_FILE: ""})
    if port is not None:
        env[ENV_PORT] = str(port)
    return env


def shopflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHOPFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def started_on_another_port(isolated_env: Path) -> Iterator[tuple[Path, int]]:
    """`SHOPFLOW_PG_PORT=<free port> shopflow db start` in a throwaway home; stopped after.

    `db start` renders the repo's profiles.yml for its server: the developer's is put back."""
    port = free_port()
    saved_profile = REPO_PROFILE.read_bytes() if REPO_PROFILE.exists() else None
    started = shopflow(shell(isolated_env, port), "db", "start")
    try:
        assert started.returncode == 0, started.stderr
        assert f"Started the local server on 127.0.0.1:{port}" in started.stdout
        yield isolated_env, port
    finally:
        shopflow(shell(isolated_env, port), "db", "stop")
        if saved_profile is not None:
            REPO_PROFILE.write_bytes(saved_profile)


def test_a_new_shell_finds_the_real_port(started_on_another_port: tuple[Path, int]) -> None:
    home, port = started_on_another_port
    new_shell = shell(home)

    status = shopflow(new_shell, "db", "status")
    url = shopflow(new_shell, "db", "url")
    ops_url = shopflow(new_shell, "db", "url", "--ops")
    again = shopflow(new_shell, "db", "start")
    server_port = shopflow(new_shell, "db", "psql", "--", "-At", "-c", "select inet_server_port()")
    ops_database = shopflow(new_shell, "db", "psql", "--ops", "-c", "select current_database()")

    assert status.returncode == 0, status.stderr
    assert "running (pid" in status.stdout and f"127.0.0.1:{port}" in status.stdout
    assert status.stderr == ""  # no warning: nothing asks for another port
    assert url.stdout.strip().endswith(f"@127.0.0.1:{port}/shopflow")
    assert ops_url.stdout.strip().endswith(f"@127.0.0.1:{port}/shopflow_ops")
    assert again.returncode == 0 and f"already runs on 127.0.0.1:{port}" in again.stdout
    assert server_port.stdout.strip() == str(port), server_port.stderr
    assert "shopflow_ops" in ops_database.stdout, ops_database.stderr


def test_this_process_and_the_profile_agree(
    started_on_another_port: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tests' connection_settings() and the rendered profile use the recorded port."""
    _, port = started_on_another_port
    monkeypatch.delenv(ENV_PORT, raising=False)

    settings = connection_settings()

    assert settings.port == port
    assert f"env_var('SHOPFLOW_PG_PORT', '{port}')" in render_profile(settings)


def test_an_explicit_other_port_wins_and_is_said_plainly(
    started_on_another_port: tuple[Path, int],
) -> None:
    home, port = started_on_another_port
    other = free_port()
    asks_other = shell(home, other)

    status = shopflow(asks_other, "db", "status")
    url = shopflow(asks_other, "db", "url")
    start = shopflow(asks_other, "db", "start")

    assert status.returncode == 0
    assert f"127.0.0.1:{port}" in status.stdout
    assert f"SHOPFLOW_PG_PORT={other}" in status.stderr and f"port {port}" in status.stderr
    assert url.stdout.strip().endswith(f"@127.0.0.1:{other}/shopflow")  # the variable wins
    assert f"SHOPFLOW_PG_PORT={other}" in url.stderr
    assert start.returncode == 1
    assert f"already runs on port {port}" in start.stderr and "Traceback" not in start.stderr


def test_after_stop_the_record_is_gone_and_the_default_is_back(
    started_on_another_port: tuple[Path, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    home, _ = started_on_another_port
    monkeypatch.delenv(ENV_PORT, raising=False)
    assert local_server_record_file().exists()

    stopped = shopflow(shell(home), "db", "stop")
    status = shopflow(shell(home), "db", "status")

    assert stopped.returncode == 0 and "Stopped" in stopped.stdout
    assert status.returncode == 3 and "stopped" in status.stdout
    assert not local_server_record_file().exists()
    assert connection_settings().port == 54329
