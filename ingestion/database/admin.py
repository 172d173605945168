"""The local server's administrator: its bootstrap superuser, who the pipeline is not.

It starts the server, creates the roles and the databases and chooses the durability mode;
nothing else connects as it (``pipeline_role`` explains the split).
"""

from __future__ import annotations

from dataclasses import replace

import psycopg2.extensions
from psycopg2 import sql
from psycopg2.extensions import encrypt_password

from ingestion.database.local_credentials import local_secret
from ingestion.settings import ConnectionSettings

ADMIN_USER = "shopflow_admin"
ADMIN_PASSWORD_KEY = "admin_password"
ROLE_CHANGES_LOCK = 2026_12_21
"""An advisory lock key: commands starting at once change roles one after the other (two
concurrent ALTER ROLE of one role fail with "tuple concurrently updated")."""


def admin_settings(settings: ConnectionSettings) -> ConnectionSettings:
    """How the local server's superuser connects: the same server, its own role."""
    return replace(settings, user=ADMIN_USER, password=local_secret(ADMIN_PASSWORD_KEY))


def role_manager(settings: ConnectionSettings) -> ConnectionSettings:
    """Who creates roles and databases: the administrator locally, the given user elsewhere."""
    return settings if settings.external else admin_settings(settings)


def password_verifier(cursor: psycopg2.extensions.cursor, user: str, password: str) -> sql.Literal:
    """A role's password as its SCRAM verifier, computed here: the plain password never
    reaches the server, so no server log (a failed statement is logged whole) can hold it."""
    return sql.Literal(encrypt_password(password, user, cursor, "scram-sha-256"))


def lock_role_changes(cursor: psycopg2.extensions.cursor) -> None:
    """Wait for other commands' role changes; held until the cursor's connection closes."""
    cursor.execute("select pg_advisory_lock(%s)", (ROLE_CHANGES_LOCK,))
