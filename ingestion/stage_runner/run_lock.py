"""One run at a time per warehouse: a Postgres advisory lock held for a whole command.

`shopflow run`, `shopflow ingest` and `shopflow ci-slim` take the lock before touching the
warehouse, dlt's working folders (one per warehouse database, see ``loading.runtime``) or
dbt's target folder. The lock is session-level (``pg_try_advisory_lock``) on a connection of
its own, opened for the lock only: Postgres frees it when that connection ends, so a killed
or crashed command never leaves a stale lock behind. Advisory locks live in one database, so
two warehouses on the same server never block each other.

A second command waits up to ``wait_seconds`` and then refuses, naming the holder: the
connection's ``application_name`` names the command, process and host; Postgres knows since when.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg2
import psycopg2.extensions

from ingestion.database.connection import connect
from ingestion.database.errors import DatabaseError
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

LOCK_NAME = "shopflow.run"
LOCK_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
"""The advisory lock key: a fixed 64-bit number derived from ``LOCK_NAME``."""

DEFAULT_WAIT_SECONDS = 0.0
POLL_SECONDS = 0.5
MAX_APPLICATION_NAME = 63  # Postgres truncates longer names (NAMEDATALEN - 1)

# the lock connection sits idle for the whole command: no server timeout may end it, and a
# vanished client (a machine that died) is noticed after about a minute, freeing the lock
LOCK_SESSION_SETTINGS = (
    "set idle_session_timeout = 0",
    "set idle_in_transaction_session_timeout = 0",
    "set tcp_keepalives_idle = 30",
    "set tcp_keepalives_interval = 10",
    "set tcp_keepalives_count = 3",
)

HOLDER_QUERY = """
    select activity.pid, activity.application_name, activity.backend_start,
           host(activity.client_addr)
    from pg_locks as locks
    join pg_stat_activity as activity on activity.pid = locks.pid
    where locks.locktype = 'advisory'
      and locks.granted
      and locks.database = (select oid from pg_database where datname = current_database())
      and locks.classid = %s::bigint::oid
      and locks.objid = %s::bigint::oid
      and locks.objsubid = 1
"""


class RunLockBusyError(DatabaseError):
    """Another shopflow command holds the run lock of this warehouse."""


@dataclass(frozen=True)
class LockHolder:
    """The session holding the lock, as Postgres shows it."""

    backend_pid: int
    application_name: str
    connected_since: dt.datetime | None
    client_address: str | None


def application_name(command: str) -> str:
    """What the lock connection calls itself: command, process and host (its start time is
    the session's ``backend_start``)."""
    host = socket.gethostname()[:16]
    return f"shopflow {command} (pid {os.getpid()} on {host})"[:MAX_APPLICATION_NAME]


def _lock_key_parts() -> tuple[int, int]:
    """``LOCK_KEY`` as pg_locks shows a bigint key: high and low 32 bits (classid, objid)."""
    unsigned = LOCK_KEY & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


def current_holder(cursor: psycopg2.extensions.cursor) -> LockHolder | None:
    """The session holding the run lock in this cursor's database, if any."""
    cursor.execute(HOLDER_QUERY, _lock_key_parts())
    row = cursor.fetchone()
    if row is None:
        return None
    return LockHolder(int(row[0]), str(row[1] or ""), row[2], row[3])


def describe_holder(holder: LockHolder | None, database: str) -> str:
    """The refusal: one sentence naming the holder and what to do."""
    if holder is None:
        who = "another shopflow command (it finished a moment ago)"
    else:
        label = holder.application_name or "a session without a name"
        since = (
            holder.connected_since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            if holder.connected_since
            else "an unknown time"
        )
        client = f" from {holder.client_address}" if holder.client_address else ""
        who = f"{label}, Postgres session {holder.backend_pid}{client}, holding it since {since}"
    return (
        f"Another run holds the run lock of warehouse '{database}': {who}; "
        "let it finish (or stop it), or pass --wait SECONDS to wait for it."
    )


def _try_lock(cursor: psycopg2.extensions.cursor) -> bool:
    cursor.execute("select pg_try_advisory_lock(%s)", (LOCK_KEY,))
    row = cursor.fetchone()
    return bool(row and row[0])


def _open_lock_connection(
    settings: ConnectionSettings, command: str
) -> psycopg2.extensions.connection:
    conn = connect(settings, settings.database)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "select set_config('application_name', %s, false)", (application_name(command),)
            )
            for statement in LOCK_SESSION_SETTINGS:
                cursor.execute(statement)
    except psycopg2.Error as exc:
        conn.close()
        raise DatabaseError(
            f"Could not set up the run lock of warehouse '{settings.database}': {exc}".strip()
        ) from exc
    return conn


def _acquire(
    conn: psycopg2.extensions.connection,
    settings: ConnectionSettings,
    wait_seconds: float,
    poll_seconds: float,
) -> None:
    deadline = time.monotonic() + max(wait_seconds, 0.0)
    try:
        with conn.cursor() as cursor:
            while not _try_lock(cursor):
                if time.monotonic() >= deadline:
                    holder = current_holder(cursor)
                    if holder is None and _try_lock(cursor):
                        return  # released between the two looks
                    raise RunLockBusyError(describe_holder(holder, settings.database))
                time.sleep(max(min(poll_seconds, deadline - time.monotonic()), 0.01))
    except psycopg2.Error as exc:
        raise DatabaseError(
            f"Could not take the run lock of warehouse '{settings.database}': {exc}".strip()
        ) from exc


@contextmanager
def run_lock(
    settings: ConnectionSettings,
    command: str,
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
    poll_seconds: float = POLL_SECONDS,
) -> Iterator[None]:
    """Hold the warehouse's run lock for the ``with`` block.

    Waits up to ``wait_seconds`` for a holder to finish, then raises ``RunLockBusyError`` naming
    it. Raises ``DatabaseError`` when the warehouse cannot be reached.
    """
    conn = _open_lock_connection(settings, command)
    try:
        _acquire(conn, settings, wait_seconds, poll_seconds)
        log.info("run lock of %s taken by %s", settings.database, command)
        yield
    finally:
        _release(conn, settings.database)


def _release(conn: psycopg2.extensions.connection, database: str) -> None:
    """Unlock and close; a connection that already died has freed the lock with it."""
    try:
        if not conn.closed:
            with conn.cursor() as cursor:
                cursor.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    except psycopg2.Error:
        log.debug("run lock of %s: connection already gone", database, exc_info=True)
    finally:
        conn.close()
