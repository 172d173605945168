"""A small thread-safe pool of read-only connections to the operations database.

Connections are opened on demand (never at import or app creation), at most ``size`` at a
time, and reused; a connection that broke is thrown away instead of going back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings

logger = logging.getLogger(__name__)


class ReadOnlyPool:
    """Up to ``size`` connections to one database, each used in read-only transactions."""

    def __init__(self, settings: ConnectionSettings, database: str, size: int = 4) -> None:
        if size < 1:
            raise ValueError(f"size={size} is below 1")
        self._settings = settings
        self._database = database
        self._slots = threading.BoundedSemaphore(size)
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _take(self) -> psycopg2.extensions.connection:
        with self._lock:
            if self._closed:
                raise RuntimeError("the connection pool is closed")
            if self._idle:
                return self._idle.pop()
        logger.debug("opening a connection to %s", self._database)
        conn = connect(self._settings, self._database)
        conn.set_session(
            isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
            readonly=True,
        )
        return conn

    def _give_back(self, conn: psycopg2.extensions.connection, healthy: bool) -> None:
        if healthy and not conn.closed:
            try:
                conn.rollback()
            except psycopg2.Error:
                healthy = False
        with self._lock:
            if healthy and not conn.closed and not self._closed:
                self._idle.append(conn)
                return
        if not conn.closed:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor in one read-only, repeatable-read transaction (a consistent snapshot)."""
        with self._slots:
            conn = self._take()
            healthy = True
            try:
                with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    yield cur
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                healthy = False
                raise
            finally:
                self._give_back(conn, healthy)

    def close(self) -> None:
        """Close every idle connection; connections in use close when given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
