"""Who is superuser on the local server: its administrator, never the pipeline.

The local server's bootstrap superuser is ``shopflow_admin`` (password ``admin_password`` in
``.shopflow/credentials.json``). It starts the server, creates the roles and the databases
and chooses the durability mode, nothing else. The pipeline logs in as ``SHOPFLOW_PG_USER``
(``shopflow``): a plain login role without SUPERUSER, CREATEDB or CREATEROLE that owns the
warehouse and operations databases and every schema it writes, so a bug or an injected
statement in a run cannot read other roles' passwords, run programs, read server files or
change the server.

Servers initialised by an older shopflow have the pipeline role as their bootstrap superuser,
which PostgreSQL never lets lose SUPERUSER. ``ensure_pipeline_role`` upgrades them in place,
once: a short-lived helper superuser renames that role to ``shopflow_admin`` (with the
administrator's password), creates the pipeline role again with its old password, and gives
it every database and every object the old role owned in them. The helper role is dropped
last, so its presence means "not finished" and the next start completes the work.

An external server (``SHOPFLOW_PG_HOST``) is not ours: the project uses the given user, and
``db start`` warns when it is a superuser.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import replace

import psycopg2
from psycopg2 import sql

from ingestion.database.admin import (
    ADMIN_USER,
    admin_settings,
    lock_role_changes,
    password_verifier,
)
from ingestion.database.connection import autocommit
from ingestion.database.errors import DatabaseError
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

UPGRADE_USER = "shopflow_upgrade"
"""The helper superuser of the in-place upgrade; it exists only while one is unfinished."""
BOOTSTRAP_OID = 10
"""The bootstrap superuser's role id, the same on every PostgreSQL server."""
SYSTEM_DATABASES = ("postgres", "template0", "template1")

# Every object of the project's schemas that the old owner held, given to the pipeline role.
# Indexes and a table's own sequences follow their table; extension members stay.
_TRANSFER = """
do $transfer$
declare
    item record;
begin
    for item in
        select n.nspname from pg_namespace as n
        where n.nspowner = {old}::regrole
            and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
    loop
        execute format('alter schema %I owner to %I', item.nspname, {new});
    end loop;
    for item in
        select c.oid::regclass as relation, c.relkind from pg_class as c
            join pg_namespace as n on n.oid = c.relnamespace
        where c.relowner = {old}::regrole and c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
            and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
            and not exists (
                select 1 from pg_depend as d
                where d.classid = 'pg_class'::regclass and d.objid = c.oid
                    and d.deptype in ('a', 'i', 'e')
            )
    loop
        execute format(
            'alter %s %s owner to %I',
            case item.relkind when 'm' then 'materialized view'
                when 'f' then 'foreign table' else 'table' end,
            item.relation, {new}
        );
    end loop;
    for item in
        select p.oid::regprocedure as routine from pg_proc as p
            join pg_namespace as n on n.oid = p.pronamespace
        where p.proowner = {old}::regrole
            and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
            and not exists (
                select 1 from pg_depend as d
                where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
            )
    loop
        execute format('alter routine %s owner to %I', item.routine, {new});
    end loop;
    for item in
        select t.oid::regtype as type_name from pg_type as t
            join pg_namespace as n on n.oid = t.typnamespace
        where t.typowner = {old}::regrole and t.typtype in ('e', 'd', 'r', 'm')
            and n.nspname not like 'pg\\_%' and n.nspname <> 'information_schema'
            and not exists (
                select 1 from pg_depend as d
                where d.classid = 'pg_type'::regclass and d.objid = t.oid and d.deptype = 'e'
            )
    loop
        execute format('alter type %s owner to %I', item.type_name, {new});
    end loop;
end
$transfer$
"""


def _password_refused(error: DatabaseError) -> bool:
    return "password authentication failed" in str(error.__cause__ or "")


def ensure_pipeline_role(settings: ConnectionSettings) -> None:
    """Make the local server's pipeline role a plain owner, upgrading an older server once."""
    if settings.user in (ADMIN_USER, UPGRADE_USER):
        raise DatabaseError(
            f"SHOPFLOW_PG_USER={settings.user} is the local server's administrator: the pipeline "
            "must not run as it. Unset SHOPFLOW_PG_USER (the pipeline's role is shopflow)."
        )
    admin = admin_settings(settings)
    try:
        with autocommit(admin, "postgres") as cursor:
            lock_role_changes(cursor)
            cursor.execute(
                "select"
                " (select rolsuper from pg_roles where rolname = %s),"
                " exists (select 1 from pg_roles where rolname = %s)",
                (settings.user, UPGRADE_USER),
            )
            superuser, unfinished = cursor.fetchone() or (None, False)
            if superuser is None:
                _create_pipeline_role(cursor, settings)
            elif superuser:
                cursor.execute(
                    sql.SQL("alter role {} nosuperuser nocreatedb nocreaterole").format(
                        sql.Identifier(settings.user)
                    )
                )
            # reading the operations database's log (a replication slot) needs this attribute
            cursor.execute(
                sql.SQL("alter role {} replication").format(sql.Identifier(settings.user))
            )
            if unfinished:  # an upgrade was interrupted after the renaming: finish it
                _transfer_everything(admin, settings.user)
    except DatabaseError as exc:
        if not _password_refused(exc):
            raise
        _upgrade_from_superuser_pipeline(settings, admin)


def _create_pipeline_role(cursor: psycopg2.extensions.cursor, settings: ConnectionSettings) -> None:
    log.info("creating the pipeline role %s", settings.user)
    cursor.execute(
        sql.SQL("create role {} login nosuperuser nocreatedb nocreaterole password {}").format(
            sql.Identifier(settings.user),
            password_verifier(cursor, settings.user, settings.password),
        )
    )


def _upgrade_from_superuser_pipeline(
    settings: ConnectionSettings, admin: ConnectionSettings
) -> None:
    """An older server: the pipeline role is the bootstrap superuser. Rename it to the
    administrator and create the pipeline role again (a session cannot rename its own role,
    hence the helper superuser), then give the new role what the old one owned."""
    with autocommit(settings, "postgres") as cursor:
        lock_role_changes(cursor)  # held until the end: commands starting at once wait here
        cursor.execute("select rolname, rolsuper from pg_roles where oid = %s", (BOOTSTRAP_OID,))
        bootstrap, _ = cursor.fetchone() or (None, False)
        if bootstrap == ADMIN_USER:  # another command upgraded it while this one waited
            return
        if bootstrap != settings.user:
            raise DatabaseError(
                f"The local server refused the administrator's password (admin_password "
                f"in the credentials file) and '{settings.user}' is not its superuser: "
                "the credentials file does not belong to this data folder. Restore it, or "
                "remove the state folder's pg/ to start afresh."
            )
        log.warning(
            "upgrading the local server: the pipeline role %s stops being superuser; %s "
            "becomes the administrator",
            settings.user,
            ADMIN_USER,
        )
        helper_password = secrets.token_urlsafe(24)
        cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(UPGRADE_USER)))
        cursor.execute(
            sql.SQL("create role {helper} superuser login password {password}").format(
                helper=sql.Identifier(UPGRADE_USER),
                password=password_verifier(cursor, UPGRADE_USER, helper_password),
            )
        )
        helper = replace(settings, user=UPGRADE_USER, password=helper_password)
        with autocommit(helper, "postgres") as renaming:
            renaming.execute("begin")
            renaming.execute(
                sql.SQL("alter role {old} rename to {admin}").format(
                    old=sql.Identifier(settings.user), admin=sql.Identifier(ADMIN_USER)
                )
            )
            renaming.execute(
                sql.SQL("alter role {admin} password {password}").format(
                    admin=sql.Identifier(ADMIN_USER),
                    password=password_verifier(renaming, ADMIN_USER, admin.password),
                )
            )
            _create_pipeline_role(renaming, settings)
            renaming.execute("commit")
        _transfer_everything(admin, settings.user)


def _transfer_everything(admin: ConnectionSettings, pipeline_user: str) -> None:
    """Give the pipeline role every project database and what the old owner held in it."""
    with autocommit(admin, "postgres") as cursor:
        cursor.execute(
            "select datname from pg_database where datallowconn and datname <> all(%s)",
            (list(SYSTEM_DATABASES),),
        )
        databases = [name for (name,) in cursor.fetchall()]
        for name in databases:
            try:
                cursor.execute(
                    sql.SQL("alter database {} owner to {}").format(
                        sql.Identifier(name), sql.Identifier(pipeline_user)
                    )
                )
            except psycopg2.errors.InvalidCatalogName:  # dropped meanwhile
                continue
    statement = sql.SQL(_TRANSFER).format(
        old=sql.Literal(ADMIN_USER), new=sql.Literal(pipeline_user)
    )
    for name in databases:
        log.info("giving %s's objects to %s", name, pipeline_user)
        try:
            with autocommit(admin, name) as cursor:
                cursor.execute(statement)
        except DatabaseError as exc:
            if "does not exist" not in str(exc):
                raise
    with autocommit(admin, "postgres") as cursor:
        cursor.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(UPGRADE_USER)))


def warn_if_superuser(settings: ConnectionSettings) -> bool:
    """On an external server: say when the given user is a superuser. Returns whether it is."""
    with autocommit(settings, "postgres") as cursor:
        cursor.execute("select rolsuper from pg_roles where rolname = current_user")
        row = cursor.fetchone()
    superuser = bool(row and row[0])
    if superuser:
        log.warning(
            "%s is a superuser on %s:%s: the pipeline needs only to own its databases' "
            "schemas; give it a plain role (docs/database.md) so a bad statement cannot "
            "reach the whole server.",
            settings.user,
            settings.host,
            settings.port,
        )
    return superuser
