"""Connections to the configured server, with plain-language errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol, TypeVar

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from ingestion.database.admin import role_manager
from ingestion.database.errors import DatabaseError
from ingestion.database.replication import drop_slots, warehouse_slots
from ingestion.settings import ConnectionSettings

CONNECT_TIMEOUT_SECONDS = 5

RowT = TypeVar("RowT", covariant=True)


class FetchesRows(Protocol[RowT]):
    """A DB-API cursor (plain, or one returning dicts)."""

    def fetchone(self) -> RowT | None: ...


def explain_connect_error(settings: ConnectionSettings, database: str, exc: Exception) -> str:
    text = str(exc).strip()
    where = f"{settings.host}:{settings.port}"
    if "password authentication failed" in text:
        return (
            f"The password for user '{settings.user}' was rejected by the server at {where}. "
            "Check SHOPFLOW_PG_PASSWORD (and SHOPFLOW_PG_USER)."
        )
    if f'database "{database}" does not exist' in text:
        return (
            f"Database '{database}' does not exist on {where}. "
            "Run `shopflow db start` (it creates the databases) or create it yourself."
        )
    if any(
        marker in text
        for marker in (
            "Connection refused",
            "could not connect",
            "timeout expired",
            "translate host",
        )
    ):
        return (
            f"Cannot reach a Postgres server at {where}. Is it running? "
            "Check SHOPFLOW_PG_HOST and SHOPFLOW_PG_PORT, or unset SHOPFLOW_PG_HOST to use the "
            "local embedded server (`shopflow db start`)."
        )
    return f"Cannot connect to {where}/{database}: {text}"


def connect(
    settings: ConnectionSettings, database: str | None = None
) -> psycopg2.extensions.connection:
    """Open a connection, turning libpq's errors into ones that say what to do."""
    db = database or settings.database
    try:
        return psycopg2.connect(
            host=settings.host,
            port=settings.port,
            user=settings.user,
            password=settings.password,
            dbname=db,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )
    except psycopg2.OperationalError as exc:
        raise DatabaseError(explain_connect_error(settings, db, exc)) from exc


@contextmanager
def autocommit(settings: ConnectionSettings, database: str) -> Iterator[psycopg2.extensions.cursor]:
    conn = connect(settings, database)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def database_exists(settings: ConnectionSettings, name: str) -> bool:
    with autocommit(settings, "postgres") as cur:
        cur.execute("select 1 from pg_database where datname = %s", (name,))
        return cur.fetchone() is not None


def create_database(settings: ConnectionSettings, name: str) -> bool:
    """Create a database unless it exists. Returns True if it was created.

    Locally the administrator creates it and gives it to the pipeline role, which may not
    create databases itself; nobody else may create temporary objects in it (``roles``).
    """
    if database_exists(settings, name):
        return False
    with autocommit(role_manager(settings), "postgres") as cur:
        database = sql.Identifier(name)
        try:
            if settings.external:
                cur.execute(sql.SQL("create database {}").format(database))
            else:
                owner = sql.Identifier(settings.user)
                cur.execute(sql.SQL("create database {} owner {}").format(database, owner))
        except (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation):
            return False  # another command created it a moment ago: it exists, as wanted
        if not settings.external:
            cur.execute(sql.SQL("revoke temporary on database {} from public").format(database))
    return True


def drop_database(settings: ConnectionSettings, name: str) -> None:
    """Drop a database, ending its sessions (the administrator's job locally: the analyst's
    sessions are not the pipeline role's to end), and the replication slots that decode it or
    feed it (a slot would keep the server's log, and blocks dropping the database it reads)."""
    with autocommit(role_manager(settings), "postgres") as cur:
        drop_slots(cur, database=name, names=warehouse_slots(cur, name))
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))


def server_version(settings: ConnectionSettings) -> str:
    with autocommit(settings, "postgres") as cur:
        cur.execute("show server_version")
        row = cur.fetchone()
    return str(row[0]) if row else "unknown"


def one_row(cursor: FetchesRows[RowT]) -> RowT:
    """The row of a query that always returns exactly one (an aggregate, a ``select`` of
    expressions, ``returning``), after ``cursor.execute``."""
    row = cursor.fetchone()
    if row is None:
        raise DatabaseError("a query that returns one row returned none")
    return row
