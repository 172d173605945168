"""What the local server was started with (host, port, pid), kept beside its data folder.

`shopflow db start` writes the record; `shopflow db stop` removes it. Every later command,
in any shell, reads it so that a server started on another port (``SHOPFLOW_PG_PORT=54351
shopflow db start``) is found without setting the port again. A record whose process is
gone (a crash, a reboot) or is another program now (a reused pid) is ignored.

This module reads nothing from the environment and imports nothing from the settings:
``server_settings`` calls it when it resolves the connection.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

RECORD_FILE_NAME = "server.json"
# a process's start time read twice can differ by rounding; a reused pid starts much later
START_TIME_TOLERANCE_SECONDS = 2.0


@dataclass(frozen=True)
class ServerRecord:
    host: str
    port: int
    pid: int
    started_at: float
    """The process's start time (epoch seconds), to tell it from a later one with its pid."""


def process_started_at(pid: int) -> float | None:
    try:
        return float(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None


def write(path: Path, host: str, port: int, pid: int) -> ServerRecord:
    record = ServerRecord(host, port, pid, process_started_at(pid) or 0.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(record), indent=2) + "\n")
    return record


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def read(path: Path) -> ServerRecord | None:
    """The record as written, or None when there is none or it cannot be read."""
    try:
        values = json.loads(path.read_text())
        return ServerRecord(
            host=str(values["host"]),
            port=int(values["port"]),
            pid=int(values["pid"]),
            started_at=float(values["started_at"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable local server record %s", path)
        return None


def read_running(path: Path) -> ServerRecord | None:
    """The record, only if the server it describes still runs."""
    record = read(path)
    if record is None:
        return None
    try:
        process = psutil.Process(record.pid)
        name = process.name()
        started_at = float(process.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return None
    if "postgres" not in name:
        return None
    if abs(started_at - record.started_at) > START_TIME_TOLERANCE_SECONDS:
        return None
    return record
