"""The database's boundaries hold: neither the pipeline's role nor the analyst's can step out
of its job, the analyst's sessions are bounded, and the suite's server is in fast mode only
because the suite asked (docs/database.md, docs/reliability.md "Database boundaries").

Each hostile statement runs on the world of one clean `shopflow run` (``built_reference``,
shared with the other modules); afterwards its warehouse must equal the clean run's digest,
and the server must be as it was (no new role, no file written, the same settings).
The password search over the warehouse, the logs and the state folder is in
``test_security.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
from psycopg2 import sql

from ingestion.database.admin import admin_settings, role_manager
from ingestion.database.connection import autocommit, connect
from ingestion.database.durability import Durability, read_state
from ingestion.database.roles import (
    ANALYST_LIMITS,
    ANALYST_LOGIN,
    ANALYST_ROLE,
    analyst_settings,
    limit_role,
)
from ingestion.settings import REPO_ROOT, ConnectionSettings
from tests.reliability.references import BUILT_SCHEMAS, BuiltReference
from tests.reliability.roles import open_as, refusal
from tests.reliability.support import RAW_SCHEMAS, differing

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

WRITTEN_FILE = Path("/tmp/shopflow-boundary-test-was-written")
INTRUDER = "shopflow_intruder"

# Statements a role that loads or reads a warehouse never needs. Each must be refused for
# lack of privilege (SQLSTATE 42501), not fail for another reason.
HOSTILE = {
    "create a role": f"create role {INTRUDER} login superuser",
    "read the password hashes": "select rolpassword from pg_authid",
    "change the server's configuration": "alter system set fsync = on",
    "run a program on the server": "copy (select 1) to program 'id'",
    "read a server file": "select pg_read_file('postgresql.conf')",
    "load a server file": "copy marts.dim_date from '/etc/hostname'",
    "write a server file": f"copy (select 'x') to '{WRITTEN_FILE}'",
    "create an untrusted extension": "create extension file_fdw",
    "create a database": "create database shopflow_intruder",
    "become the administrator": "set role shopflow_admin",
    "silence the server's log": "set log_min_error_statement = panic",
}


def local_only(world: BuiltReference) -> None:
    if world.world.settings.external:
        pytest.skip("the roles are the local server's; an external server's are its own")


@pytest.fixture(scope="module")
def pipeline(built_reference: BuiltReference) -> Iterator[psycopg2.extensions.connection]:
    local_only(built_reference)
    connection = open_as(built_reference.world.settings)
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def analyst(built_reference: BuiltReference) -> Iterator[psycopg2.extensions.connection]:
    local_only(built_reference)
    connection = open_as(analyst_settings(built_reference.world.settings))
    with connection.cursor() as cursor:  # refused for privilege, not merely read-only
        cursor.execute("set default_transaction_read_only = off")
    yield connection
    connection.close()


def test_the_pipeline_role_is_no_superuser_and_owns_every_schema_it_wrote(
    built_reference: BuiltReference, pipeline: psycopg2.extensions.connection
) -> None:
    settings = built_reference.world.settings
    with pipeline.cursor() as cursor:
        cursor.execute(
            "select rolsuper, rolcreatedb, rolcreaterole, rolbypassrls from pg_roles"
            " where rolname = current_user"
        )
        assert cursor.fetchone() == (False, False, False, False)
    for database in (settings.database, settings.ops_database):
        with autocommit(settings, database) as cursor:
            cursor.execute(
                "select n.nspname, count(*) from pg_namespace as n"
                " left join pg_class as c on c.relnamespace = n.oid"
                " where n.nspname not like 'pg\\_%%' and n.nspname <> 'information_schema'"
                " group by 1 having bool_or(n.nspowner::regrole::text not in (current_user,"
                " 'pg_database_owner'))"
                " or bool_or(c.relowner::regrole::text <> current_user)"
            )
            assert cursor.fetchall() == [], database
            cursor.execute(
                "select count(distinct nspname) from pg_namespace where nspname = any(%s)",
                ([*RAW_SCHEMAS, *BUILT_SCHEMAS, "staging", "audit"],),
            )
            if database == settings.database:
                assert cursor.fetchone()[0] == len(RAW_SCHEMAS) + len(BUILT_SCHEMAS) + 2


@pytest.mark.parametrize("what", list(HOSTILE))
def test_the_pipeline_role_cannot(what: str, pipeline: psycopg2.extensions.connection) -> None:
    assert refusal(pipeline, HOSTILE[what]) == "42501", what


@pytest.mark.parametrize("what", list(HOSTILE))
def test_the_analyst_cannot(what: str, analyst: psycopg2.extensions.connection) -> None:
    assert refusal(analyst, HOSTILE[what]) == "42501", what


@pytest.mark.parametrize("database", ["warehouse", "operations", "postgres"])
def test_the_analyst_cannot_create_temporary_objects(
    database: str, built_reference: BuiltReference
) -> None:
    local_only(built_reference)
    settings = built_reference.world.settings
    name = {"warehouse": settings.database, "operations": settings.ops_database}.get(
        database, database
    )
    connection = open_as(analyst_settings(settings), name)
    try:
        assert refusal(connection, "set default_transaction_read_only = off") == ""
        assert refusal(connection, "create temporary table mine (i int)") == "42501"
        assert refusal(connection, "create temporary view mine as select 1 as i") == "42501"
    finally:
        connection.close()


def test_the_analyst_sessions_carry_the_limits_and_cannot_lift_the_temp_file_limit(
    analyst: psycopg2.extensions.connection,
) -> None:
    with analyst.cursor() as cursor:
        for name, value in ANALYST_LIMITS.items():
            cursor.execute(sql.SQL("show {}").format(sql.Identifier(name)))
            assert cursor.fetchone() == (value,), name
    assert refusal(analyst, "set temp_file_limit = -1") == "42501"


@pytest.fixture(scope="module")
def tightly_limited(built_reference: BuiltReference) -> Iterator[ConnectionSettings]:
    """A throwaway analyst login bounded by the same code with limits a test can reach."""
    local_only(built_reference)
    settings = built_reference.world.settings
    user, password = f"shopflow_test_analyst_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    limits = {
        "statement_timeout": "300ms",
        "idle_in_transaction_session_timeout": "300ms",
        "temp_file_limit": "1MB",
        "work_mem": "64kB",
    }
    assert set(ANALYST_LIMITS) <= set(limits)
    with autocommit(role_manager(settings), "postgres") as cursor:
        cursor.execute(
            sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(user), sql.Literal(password), sql.Identifier(ANALYST_ROLE)
            )
        )
        limit_role(cursor, user, limits)
    yield replace(settings, user=user, password=password)
    with autocommit(role_manager(settings), "postgres") as cursor:
        cursor.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))


def test_a_statement_past_the_timeout_is_cancelled(tightly_limited: ConnectionSettings) -> None:
    connection = open_as(tightly_limited)
    try:
        started = time.monotonic()
        assert refusal(connection, "select pg_sleep(5)") == "57014"  # query_canceled
        assert time.monotonic() - started < 3
    finally:
        connection.close()


def test_a_huge_sort_or_cross_join_stops_at_the_temp_file_limit(
    tightly_limited: ConnectionSettings,
) -> None:
    connection = open_as(tightly_limited)
    try:
        for statement in (
            "select count(*) from (select g from generate_series(1, 400000) as g"
            " order by g desc) as sorted",
            "select count(*) from (select a.g, b.g from generate_series(1, 2000) as a (g)"
            " cross join generate_series(1, 2000) as b (g) order by 1, 2) as crossed",
        ):
            assert refusal(connection, statement) == "53400", statement  # limit exceeded
    finally:
        connection.close()


def test_an_idle_transaction_is_ended(tightly_limited: ConnectionSettings) -> None:
    connection = connect(tightly_limited)  # a transaction left open, as a notebook leaves it
    try:
        with connection.cursor() as cursor:
            cursor.execute("select 1")
        time.sleep(1.0)
        with pytest.raises(psycopg2.OperationalError), connection.cursor() as cursor:
            cursor.execute("select 1")
    finally:
        connection.close()


def test_the_analyst_cannot_read_other_sessions_queries(
    pipeline: psycopg2.extensions.connection, analyst: psycopg2.extensions.connection
) -> None:
    marker = f"boundary-{uuid.uuid4().hex}"
    with pipeline.cursor() as cursor:
        cursor.execute(f"select '{marker}' as secret")
        cursor.execute("select pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with analyst.cursor() as cursor:
        cursor.execute("select query from pg_stat_activity where pid = %s", (pid,))
        assert cursor.fetchall() == [("<insufficient privilege>",)]
        cursor.execute(
            "select count(*) from pg_stat_activity where query like %s and pid <> pg_backend_pid()",
            (f"%{marker}%",),
        )
        assert cursor.fetchone() == (0,)


def test_the_refused_statements_changed_nothing(built_reference: BuiltReference) -> None:
    local_only(built_reference)
    world = built_reference.world
    assert differing(world.digest(), built_reference.raw) == {}
    assert differing(world.digest(BUILT_SCHEMAS), built_reference.built) == {}
    assert not WRITTEN_FILE.exists()
    with autocommit(admin_settings(world.settings), "postgres") as cursor:
        cursor.execute(
            "select (select count(*) from pg_roles where rolname = %s),"
            " (select count(*) from pg_database where datname = %s),"
            " (select count(*) from pg_file_settings where name = 'fsync' and setting = 'on')",
            (INTRUDER, INTRUDER),
        )
        assert cursor.fetchone() == (0, 0, 0)
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute("select count(*) from pg_roles where rolname = %s", (ANALYST_LOGIN,))
        assert cursor.fetchone() == (1,)


def test_the_suite_runs_on_fast_mode_because_it_asked_and_the_docs_say_what_it_risks(
    server_settings: ConnectionSettings,
) -> None:
    if server_settings.external:
        pytest.skip("an external server's durability is its administrator's")
    assert read_state(admin_settings(server_settings)).mode is Durability.FAST
    with autocommit(server_settings, "postgres") as cursor:  # as the pipeline sees it
        cursor.execute("show fsync")
        assert cursor.fetchone() == ("off",)
    docs = (REPO_ROOT / "docs" / "database.md").read_text()
    assert "power cut" in docs and "shopflow db start --fast" in docs
    assert "db-start-fast" in (REPO_ROOT / "Makefile").read_text()
