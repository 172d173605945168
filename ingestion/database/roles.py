"""The read-only analyst roles, created by ``shopflow db start``.

``analyst`` is a NOLOGIN group role: dbt's ``grants`` config gives it SELECT on marts and on
the staging views without personal data (``dbt_project.yml``), and USAGE on their schemas. It
never gets access to the raw datasets (``raw_*``, their dlt ``*_staging`` copies) nor to
``snapshots``. On the local server a login role, ``shopflow_analyst``, is a member of it; its
password is generated once and kept with the local credentials (``analyst_password`` in
``.shopflow/credentials.json``). Its sessions default to read-only transactions, and it is
bounded: no database lets it create temporary objects (TEMPORARY is revoked from PUBLIC; the
pipeline role keeps it as the databases' owner), and ``ANALYST_LIMITS`` hold for its
sessions. ``temp_file_limit`` is a hard ceiling (only a superuser may change it); the
timeouts are defaults the analyst could raise in a session, stated as such in
docs/database.md.

On an external server the project's role may not be allowed to create roles: then nothing is
created, a warning says so, and dbt skips grants to a role that does not exist.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import psycopg2
from psycopg2 import sql

from ingestion.database.admin import lock_role_changes, password_verifier, role_manager
from ingestion.database.connection import autocommit
from ingestion.database.local_credentials import local_secret
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

ANALYST_ROLE = "analyst"
"""The group role dbt grants SELECT to (named in dbt_project.yml's ``+grants``)."""
ANALYST_LOGIN = "shopflow_analyst"
"""The local login role, a member of ``analyst``."""
PASSWORD_KEY = "analyst_password"
ANALYST_LIMITS = {
    # a forgotten or runaway query must not hold the warehouse's locks through a rebuild
    "statement_timeout": "5min",
    "idle_in_transaction_session_timeout": "10min",
    # an enormous sort or cross join fails instead of filling the server's disk
    "temp_file_limit": "1GB",
}

_CREATE_IF_MISSING = """
do $create$
begin
    create role {role} {options};
exception when duplicate_object then
    null;
end
$create$
"""


def analyst_password() -> str:
    """The local analyst's password: generated once, kept beside the local password."""
    return local_secret(PASSWORD_KEY)


def analyst_settings(settings: ConnectionSettings) -> ConnectionSettings:
    """How the local analyst connects: the same server and databases, its own role."""
    return replace(settings, user=ANALYST_LOGIN, password=analyst_password())


def _create_role(cursor: psycopg2.extensions.cursor, role: str, options: str) -> None:
    cursor.execute(
        sql.SQL(_CREATE_IF_MISSING).format(role=sql.Identifier(role), options=sql.SQL(options))
    )


def ensure_analyst_roles(settings: ConnectionSettings) -> bool:
    """Create the analyst roles if missing. Returns False when the server does not allow it.

    Roles belong to the whole server, so this runs once per start, not per database.
    """
    try:
        with autocommit(role_manager(settings), "postgres") as cursor:
            lock_role_changes(cursor)
            if settings.external:  # a user without CREATEROLE is fine once the role exists
                cursor.execute("select 1 from pg_roles where rolname = %s", (ANALYST_ROLE,))
                if cursor.fetchone() is None:
                    _create_role(cursor, ANALYST_ROLE, "nologin")
                return True
            _create_role(cursor, ANALYST_ROLE, "nologin")
            _create_role(cursor, ANALYST_LOGIN, "login")
            cursor.execute(
                sql.SQL(
                    "alter role {login} with login password {password}; "
                    "alter role {login} set default_transaction_read_only = on; "
                    "grant {group} to {login}"
                ).format(
                    login=sql.Identifier(ANALYST_LOGIN),
                    password=password_verifier(cursor, ANALYST_LOGIN, analyst_password()),
                    group=sql.Identifier(ANALYST_ROLE),
                )
            )
            limit_role(cursor, ANALYST_LOGIN, ANALYST_LIMITS)
            revoke_temporary_from_public(cursor)
    except psycopg2.errors.InsufficientPrivilege as exc:
        log.warning(
            "Role '%s' was not created: user '%s' may not create roles on %s:%s (%s). "
            "dbt skips grants to a missing role; ask the server's administrator to run "
            "CREATE ROLE %s NOLOGIN.",
            ANALYST_ROLE,
            settings.user,
            settings.host,
            settings.port,
            str(exc).strip(),
            ANALYST_ROLE,
        )
        return False
    return True


def limit_role(cursor: psycopg2.extensions.cursor, role: str, limits: dict[str, str]) -> None:
    """Set ``limits`` for every later session of ``role`` (as a superuser: temp_file_limit)."""
    for name, value in limits.items():
        cursor.execute(
            sql.SQL("alter role {role} set {name} = {value}").format(
                role=sql.Identifier(role), name=sql.Identifier(name), value=sql.Literal(value)
            )
        )


def revoke_temporary_from_public(cursor: psycopg2.extensions.cursor) -> None:
    """No database of the server lets an arbitrary role create temporary objects; each
    database's owner (the pipeline role for the project's) keeps the right."""
    cursor.execute(
        "select datname from pg_database where datallowconn and exists ("
        " select 1 from aclexplode(coalesce(datacl, acldefault('d', datdba))) as granted"
        " where granted.grantee = 0 and granted.privilege_type = 'TEMPORARY')"
    )
    for (name,) in cursor.fetchall():
        try:
            cursor.execute(
                sql.SQL("revoke temporary on database {} from public").format(sql.Identifier(name))
            )
        except psycopg2.errors.InvalidCatalogName:  # dropped meanwhile (tests drop theirs)
            continue
