"""The read-only analyst roles, created by ``shopflow db start``.

``analyst`` is a NOLOGIN group role: dbt's ``grants`` config gives it SELECT on marts and on
the staging views without personal data (``dbt_project.yml``), and USAGE on their schemas. It
never gets access to the raw datasets (``raw_*``, their dlt ``*_staging`` copies) nor to
``snapshots``. On the local server a login role, ``shopflow_analyst``, is a member of it; its
password is generated once and kept with the local credentials (``analyst_password`` in
``.shopflow/credentials.json``). Its sessions default to read-only transactions.

On an external server the project's role may not be allowed to create roles: then nothing is
created, a warning says so, and dbt skips grants to a role that does not exist.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import replace

import psycopg2
from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings, credentials_file

log = logging.getLogger(__name__)

ANALYST_ROLE = "analyst"
"""The group role dbt grants SELECT to (named in dbt_project.yml's ``+grants``)."""
ANALYST_LOGIN = "shopflow_analyst"
"""The local login role, a member of ``analyst``."""
PASSWORD_KEY = "analyst_password"

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
    path = credentials_file()
    stored = json.loads(path.read_text()) if path.exists() else {}
    if PASSWORD_KEY not in stored:
        stored[PASSWORD_KEY] = secrets.token_urlsafe(24)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored))
        path.chmod(0o600)
    return str(stored[PASSWORD_KEY])


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
        with autocommit(settings, "postgres") as cursor:
            _create_role(cursor, ANALYST_ROLE, "nologin")
            if settings.external:
                return True
            _create_role(cursor, ANALYST_LOGIN, "login")
            cursor.execute(
                sql.SQL(
                    "alter role {login} with login password {password}; "
                    "alter role {login} set default_transaction_read_only = on; "
                    "grant {group} to {login}"
                ).format(
                    login=sql.Identifier(ANALYST_LOGIN),
                    password=sql.Literal(analyst_password()),
                    group=sql.Identifier(ANALYST_ROLE),
                )
            )
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
