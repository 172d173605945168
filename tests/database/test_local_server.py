"""The local embedded server: start, restart, stop, stale pid files, busy ports."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from ingestion.database import local_server, service
from ingestion.database.connection import autocommit, one_row
from ingestion.database.errors import DatabaseError
from ingestion.database.server_settings import connection_settings
from ingestion.settings import ENV_PORT, ConnectionSettings
from tests.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture
def own_server(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionSettings]:
    """A private local server in a temporary home on a free port; stopped afterwards."""
    monkeypatch.setenv(ENV_PORT, str(free_port()))
    settings = connection_settings()
    yield settings
    service.stop_local()


def test_start_twice_is_harmless_and_url_connects(own_server: ConnectionSettings) -> None:
    first = service.ensure_ready(own_server)
    second = service.ensure_ready(own_server)

    assert first.started_now is True
    assert set(first.created_databases) == {"shopflow", "shopflow_ops"}
    assert second.started_now is False
    assert second.created_databases == ()
    state = service.local_status()
    assert state.running and state.port == own_server.port
    with psycopg2.connect(own_server.ops_url) as conn, conn.cursor() as cur:
        cur.execute("select current_database()")
        assert cur.fetchone() == ("shopflow_ops",)


def test_stop_then_status_says_stopped(own_server: ConnectionSettings) -> None:
    service.ensure_ready(own_server)
    assert service.stop_local() is True
    assert service.local_status().running is False
    assert service.stop_local() is False
    with pytest.raises(DatabaseError, match=f"127.0.0.1:{own_server.port}"):
        service.ensure_ready(own_server.__class__(**{**own_server.__dict__, "external": True}))


def test_stale_pid_file_after_a_crash_is_cleared(own_server: ConnectionSettings) -> None:
    service.ensure_ready(own_server)
    service.stop_local()
    paths = service.local_paths()
    # a crashed server leaves its pid file; the pid is long gone (pid_max is below 2**22)
    paths.pid_file.write_text(
        f"4194303\n{paths.data}\n0\n{own_server.port}\n\n127.0.0.1\n0 0\nready\n"
    )

    assert service.ensure_ready(own_server).started_now is True
    assert service.local_status().running is True


def test_port_taken_by_another_program_is_named(own_server: ConnectionSettings) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", own_server.port))
        blocker.listen()
        with pytest.raises(DatabaseError) as info:
            local_server.start(service.local_paths(), own_server)
    message = str(info.value)
    assert f"Port {own_server.port}" in message
    assert "SHOPFLOW_PG_PORT" in message
    assert service.local_status().running is False


def test_start_records_the_port_and_a_missing_record_is_written_again(
    own_server: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.ensure_ready(own_server)
    record = service.local_paths().record_file
    monkeypatch.delenv(ENV_PORT)
    assert connection_settings().port == own_server.port  # found through the record

    record.unlink()  # as for a server started before records existed
    assert connection_settings().port != own_server.port
    assert service.ensure_ready(own_server).started_now is False
    assert connection_settings().port == own_server.port


def test_a_server_without_logical_decoding_is_restarted_once_with_it(
    own_server: ConnectionSettings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def setting(name: str) -> object:
        with autocommit(own_server, "postgres") as cursor:
            cursor.execute(f"show {name}")
            return one_row(cursor)[0]

    # a server an older shopflow started: no logical decoding on its command line
    service.ensure_ready(own_server)
    service.stop_local()
    today = local_server.LOGICAL_REPLICATION_OPTIONS
    monkeypatch.setattr(local_server, "LOGICAL_REPLICATION_OPTIONS", "-c wal_level=replica")
    local_server.start(service.local_paths(), own_server)
    assert setting("wal_level") == "replica"
    monkeypatch.setattr(local_server, "LOGICAL_REPLICATION_OPTIONS", today)

    with caplog.at_level(logging.WARNING):
        assert service.ensure_ready(own_server).started_now is True
    assert "restarting the local server once" in caplog.text
    assert (setting("wal_level"), setting("max_slot_wal_keep_size")) == ("logical", "10GB")
    with autocommit(own_server, "postgres") as cursor:
        cursor.execute("select rolreplication from pg_roles where rolname = current_user")
        assert one_row(cursor) == (True,)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert service.ensure_ready(own_server).started_now is False
    assert "restarting" not in caplog.text


PROVISION = (
    "from ingestion.database import service; ready = service.ensure_ready(); "
    "print(ready.started_now, *ready.created_databases)"
)


def test_four_commands_provisioning_a_new_server_at_once_take_turns(
    own_server: ConnectionSettings,
) -> None:
    """Four commands on a fresh clone at the same moment: one initdb, one start, each database
    created once, no error (without the server's lock two would both run initdb, or one remove
    the pid file the other's server had just written)."""
    commands = [
        subprocess.Popen(
            [sys.executable, "-c", PROVISION],
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [command.communicate(timeout=600)[0] for command in commands]
    assert [command.returncode for command in commands] == [0] * 4, outputs
    said = [output.strip().splitlines()[-1].split() for output in outputs]
    assert sorted(words[0] for words in said) == ["False"] * 3 + ["True"], outputs
    created = sorted(name for words in said for name in words[1:])
    assert created == ["shopflow", "shopflow_ops"], outputs
    assert service.local_status().running
