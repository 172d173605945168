"""A connection as one role, and the SQLSTATE a statement fails with: what the role tests
look at to tell a refusal for lack of privilege from a failure of another kind."""

from __future__ import annotations

import psycopg2

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings

INSUFFICIENT_PRIVILEGE = "42501"


def open_as(
    settings: ConnectionSettings, database: str | None = None
) -> psycopg2.extensions.connection:
    connection = connect(settings, database)
    connection.autocommit = True
    return connection


def refusal(connection: psycopg2.extensions.connection, statement: str) -> str:
    """The SQLSTATE the statement failed with ("" when it ran)."""
    with connection.cursor() as cursor:
        try:
            cursor.execute(statement)
        except psycopg2.Error as exc:
            return str(exc.pgcode)
    return ""
