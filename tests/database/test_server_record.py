"""The local server's record: only believed while the server it describes runs."""

from __future__ import annotations

import os
from pathlib import Path

from ingestion.database import server_record


def test_a_record_of_a_process_that_is_not_postgres_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    server_record.write(path, "127.0.0.1", 54351, os.getpid())  # this python, not a server

    assert server_record.read(path) is not None
    assert server_record.read_running(path) is None


def test_a_record_of_a_process_that_is_gone_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    server_record.write(path, "127.0.0.1", 54351, 4194303)  # above pid_max: never a process

    assert server_record.read_running(path) is None


def test_no_record_or_a_broken_one_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "server.json"
    assert server_record.read(path) is None
    path.write_text("{not json")
    assert server_record.read(path) is None
    server_record.remove(path)
    server_record.remove(path)  # removing twice is harmless
    assert not path.exists()
