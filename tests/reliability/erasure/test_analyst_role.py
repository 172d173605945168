"""The analyst role reads only what it should, tested by connecting as it on the erasure
world; a server that forbids creating roles gets a warning, not a failure."""

from __future__ import annotations

import uuid
from dataclasses import replace

import psycopg2
import pytest
from psycopg2 import sql

from ingestion.database import roles
from ingestion.database.admin import role_manager
from ingestion.database.connection import autocommit
from ingestion.database.roles import ANALYST_ROLE, analyst_settings, ensure_analyst_roles
from ingestion.settings import ConnectionSettings
from tests.reliability.erasure.erasure_world import ErasureWorld
from tests.reliability.roles import INSUFFICIENT_PRIVILEGE, open_as, refusal

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]


def analyst(world: ErasureWorld) -> psycopg2.extensions.connection:
    exists = world.query("select count(*) from pg_roles where rolname = %s", ANALYST_ROLE)
    if world.settings.external or not exists[0][0]:
        pytest.skip("the analyst roles exist only where `shopflow db start` could create them")
    return open_as(analyst_settings(world.settings))


def test_analyst_reads_marts_and_clean_staging_only(world: ErasureWorld) -> None:
    connection = analyst(world)
    marts = [
        table
        for (table,) in world.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        )
    ]
    assert "dim_customers" in marts
    with connection.cursor() as cursor:
        for table in marts:  # every mart, after two builds that replaced them all
            cursor.execute(sql.SQL("select count(*) from marts.{}").format(sql.Identifier(table)))
        cursor.execute("select count(*) from staging.stg_ops__orders")
        assert cursor.fetchone()[0] > 0
    for relation in (
        "raw_ops.customers",
        "raw_ops_staging.customers",
        "raw_storefront.products__reviews",
        "raw_ops.customers_changes",
        "staging.stg_ops__customer_versions",
        "intermediate.int_customer_versions_windowed",
        "staging.stg_ops__customers",
        "staging.stg_storefront__product_reviews",
        "staging.stg_ops__rejected_records",
    ):
        answer = refusal(connection, f"select * from {relation} limit 1")
        assert answer == INSUFFICIENT_PRIVILEGE, relation
    connection.close()


def test_analyst_cannot_write_or_create_anywhere(world: ErasureWorld) -> None:
    connection = analyst(world)
    with connection.cursor() as cursor:  # not merely read-only by default: no privilege at all
        cursor.execute("set default_transaction_read_only = off")
    for statement in (
        "insert into marts.dim_date (date_key) values (1)",
        "update marts.fct_sales set net_revenue_usd = 0",
        "delete from marts.dim_customers",
        "truncate marts.fct_orders",
        "drop table marts.dim_date",
        "create table marts.mine (i int)",
        "create view staging.mine as select 1 as i",
        "create table public.mine (i int)",
        "create schema mine",
    ):
        assert refusal(connection, statement) == INSUFFICIENT_PRIVILEGE, statement
    connection.close()


def test_no_mart_column_holds_a_raw_email_or_phone(world: ErasureWorld) -> None:
    connection = analyst(world)
    contacts = [
        value for row in world.ops("select email, phone from ops.customers") for value in row
    ]
    contacts += [p.email for p in world.erased] + [p.phone for p in world.erased]
    contacts = [value for value in contacts if value]
    columns = world.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' and data_type in ('text', 'character varying')"
    )
    assert ("dim_customers", "email_masked") in columns
    with connection.cursor() as cursor:
        for table, column in columns:
            cursor.execute(
                sql.SQL("select count(*) from marts.{} where {} = any(%s)").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (contacts,),
            )
            assert cursor.fetchone()[0] == 0, f"marts.{table}.{column}"
    connection.close()


def test_a_server_that_forbids_creating_roles_gets_a_warning_not_a_failure(
    server_settings: ConnectionSettings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An external server where the project's user may not create roles (no CREATEROLE):
    a warning while the group role is missing (played by a name no server has), silence
    once an administrator created it."""
    if server_settings.external:
        pytest.skip("needs a server where the tests may create a role")
    user, password = f"shopflow_test_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with autocommit(role_manager(server_settings), "postgres") as cursor:
        cursor.execute(
            sql.SQL("create role {} login password {}").format(
                sql.Identifier(user), sql.Literal(password)
            )
        )
    try:
        limited = replace(server_settings, user=user, password=password, external=True)
        assert ensure_analyst_roles(limited) is True  # `analyst` exists on this server
        assert "CREATE ROLE" not in caplog.text
        missing = f"analyst_missing_{uuid.uuid4().hex[:8]}"
        monkeypatch.setattr(roles, "ANALYST_ROLE", missing)
        assert ensure_analyst_roles(limited) is False
        assert f"CREATE ROLE {missing} NOLOGIN" in caplog.text
    finally:
        with autocommit(role_manager(server_settings), "postgres") as cursor:
            cursor.execute(sql.SQL("drop role {}").format(sql.Identifier(user)))
