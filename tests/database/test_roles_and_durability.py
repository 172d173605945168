"""A private local server: who is superuser on it, how an older one is upgraded, and which
durability mode it runs in (docs/database.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import psycopg2
import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database import local_server, service
from ingestion.database.admin import ADMIN_USER, admin_settings
from ingestion.database.connection import autocommit
from ingestion.database.durability import FAST_SETTINGS, Durability, read_state
from ingestion.database.pipeline_role import BOOTSTRAP_OID, UPGRADE_USER
from ingestion.database.server_settings import connection_settings
from ingestion.settings import ENV_PORT, ConnectionSettings
from tests.ports import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# what the pipeline of an older shopflow had written, one object of each kind
OLD_OBJECTS = """
create schema raw_old;
create type raw_old.mood as enum ('calm', 'busy');
create table raw_old.orders (order_id serial primary key, mood raw_old.mood, note text);
insert into raw_old.orders (mood, note) values ('calm', 'kept');
create sequence raw_old.batch_ids;
create view raw_old.order_notes as select order_id, note from raw_old.orders;
create materialized view raw_old.order_count as select count(*) as orders from raw_old.orders;
create function raw_old.twice(value integer) returns integer
    language sql immutable as 'select value * 2';
"""


@pytest.fixture
def own_server(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionSettings]:
    """A private local server's settings, in a temporary home on a free port; stopped after."""
    monkeypatch.setenv(ENV_PORT, str(free_port()))
    yield connection_settings()
    service.stop_local()


def role_of(settings: ConnectionSettings, name: str) -> tuple[int, bool, bool, bool] | None:
    with autocommit(admin_settings(settings), "postgres") as cursor:
        cursor.execute(
            "select oid::int, rolsuper, rolcreatedb, rolcreaterole from pg_roles"
            " where rolname = %s",
            (name,),
        )
        row = cursor.fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def test_a_new_server_has_an_administrator_and_a_plain_pipeline_role(
    own_server: ConnectionSettings,
) -> None:
    ready = service.ensure_ready(own_server)
    assert role_of(own_server, ADMIN_USER) == (BOOTSTRAP_OID, True, True, True)
    pipeline = role_of(own_server, own_server.user)
    assert pipeline is not None and pipeline[1:] == (False, False, False)
    assert ready.superuser is False
    with autocommit(own_server, own_server.database) as cursor:
        cursor.execute(
            "select pg_get_userbyid(datdba) from pg_database where datname = %s",
            (own_server.database,),
        )
        assert cursor.fetchone() == (own_server.user,)
        cursor.execute("create schema raw_new; create table raw_new.t (i int)")
        cursor.execute("create temporary table scratch (i int)")  # dbt's incremental models do


def test_an_older_server_is_upgraded_in_place_and_keeps_its_data(
    own_server: ConnectionSettings, caplog: pytest.LogCaptureFixture
) -> None:
    paths = service.local_paths()
    # an older shopflow: initdb with the pipeline role as the bootstrap superuser
    local_server._initdb(paths, own_server, local_server._run_as())
    local_server.start(paths, own_server)
    with autocommit(own_server, "postgres") as cursor:
        cursor.execute(f"create database {own_server.database}")
    with autocommit(own_server, own_server.database) as cursor:
        cursor.execute(OLD_OBJECTS)
        cursor.execute("select rolsuper from pg_roles where rolname = current_user")
        assert cursor.fetchone() == (True,)

    with caplog.at_level(logging.WARNING):
        service.ensure_ready(own_server)
    assert "upgrading the local server" in caplog.text

    assert role_of(own_server, ADMIN_USER) == (BOOTSTRAP_OID, True, True, True)
    pipeline = role_of(own_server, own_server.user)
    assert pipeline is not None and pipeline[1:] == (False, False, False)
    assert role_of(own_server, UPGRADE_USER) is None
    with autocommit(own_server, own_server.database) as cursor:  # the old password still works
        cursor.execute(
            "select count(*) filter (where owner <> current_user), count(*) from ("
            " select nspowner::regrole::text as owner from pg_namespace where nspname = 'raw_old'"
            " union all select relowner::regrole::text from pg_class"
            "  where relnamespace = 'raw_old'::regnamespace"
            " union all select proowner::regrole::text from pg_proc"
            "  where pronamespace = 'raw_old'::regnamespace"
            " union all select typowner::regrole::text from pg_type"
            "  where typnamespace = 'raw_old'::regnamespace"
            " union all select pg_get_userbyid(datdba) from pg_database"
            "  where datname = current_database()) as owners"
        )
        not_ours, objects = cursor.fetchone()
        assert (not_ours, objects > 10) == (0, True)
        cursor.execute(
            "insert into raw_old.orders (mood, note) values ('busy', 'new');"
            " refresh materialized view raw_old.order_count;"
            " drop view raw_old.order_notes;"
            " select nextval('raw_old.batch_ids'), raw_old.twice(orders::int)"
            " from raw_old.order_count"
        )
        assert cursor.fetchone() == (1, 4)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert service.ensure_ready(own_server).started_now is False
    assert "upgrading" not in caplog.text

    # an upgrade interrupted after the renaming: an object still the administrator's, and
    # the helper role left behind; the next command finishes the transfer
    with autocommit(admin_settings(own_server), own_server.database) as cursor:
        cursor.execute(f"create table raw_old.left_behind (i int); create role {UPGRADE_USER}")
    service.ensure_ready(own_server)
    assert role_of(own_server, UPGRADE_USER) is None
    with autocommit(own_server, own_server.database) as cursor:
        cursor.execute("select tableowner from pg_tables where tablename = 'left_behind'")
        assert cursor.fetchone() == (own_server.user,)


def test_a_new_server_is_durable_and_fast_mode_is_chosen_explicitly(
    own_server: ConnectionSettings,
) -> None:
    runner = CliRunner()
    started = runner.invoke(app, ["db", "start"])
    assert started.exit_code == 0, started.output
    assert "Durability: durable (fsync on)" in started.output
    admin = admin_settings(own_server)
    assert read_state(admin).values == dict.fromkeys(sorted(FAST_SETTINGS), "on")

    fast = runner.invoke(app, ["db", "start", "--fast"])
    assert fast.exit_code == 0, fast.output
    assert read_state(admin).values == dict.fromkeys(sorted(FAST_SETTINGS), "off")
    status = runner.invoke(app, ["db", "status"])
    assert "durability: fast (fsync off: a power cut can corrupt the warehouse)" in status.output

    # the choice is kept in the data folder: a restart without a flag stays fast
    assert runner.invoke(app, ["db", "stop"]).exit_code == 0
    assert runner.invoke(app, ["db", "start"]).exit_code == 0
    assert read_state(admin).mode is Durability.FAST
    back = runner.invoke(app, ["db", "start", "--durable"])
    assert "Durability: durable (fsync on)" in back.output
    with psycopg2.connect(own_server.warehouse_url) as connection, connection.cursor() as cursor:
        cursor.execute("show fsync")
        assert cursor.fetchone() == ("on",)


def test_commands_starting_at_once_all_get_the_server_ready(
    own_server: ConnectionSettings,
) -> None:
    """Every command makes the roles ready; concurrent ALTER ROLEs of one role used to fail
    with "tuple concurrently updated" (and the failed statement, password included, was
    logged)."""
    service.ensure_ready(own_server)
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda _: service.ensure_ready(own_server), range(12)))
    assert all(ready.analyst_roles for ready in results)
    log = service.local_paths().log_file.read_text()
    assert "tuple concurrently updated" not in log
    assert own_server.password not in log


def test_an_external_superuser_is_warned_about_and_a_plain_user_is_not(
    own_server: ConnectionSettings, caplog: pytest.LogCaptureFixture
) -> None:
    service.ensure_ready(own_server)
    as_superuser = replace(admin_settings(own_server), external=True)
    with caplog.at_level(logging.WARNING):
        assert service.ensure_ready(as_superuser).superuser is True
    assert f"{ADMIN_USER} is a superuser" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert service.ensure_ready(replace(own_server, external=True)).superuser is False
    assert "is a superuser" not in caplog.text
