"""Erasure reaches history, and the analyst role reads only what it should.

One small world (scale 0.2) in this module's own throwaway databases: the pipeline runs, a
few customers with recognised orders are erased in the order system the way it erases
(orders keep their amounts and lose the customer; the customer row is hard-deleted), and the
pipeline runs again. Then every table and view of every schema of the warehouse is searched
for those people's names, e-mails, phones and addresses, taken from the order system before
the erasure, and revenue must not have moved. A further run with a simulated week (its own
erasures) must scrub those too and add no version for the first ones. The analyst role is
tested by connecting as it.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

import psycopg2
import pytest
from psycopg2 import sql
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database import roles
from ingestion.database.admin import role_manager
from ingestion.database.connection import autocommit, connect, create_database, drop_database
from ingestion.database.roles import ANALYST_ROLE, analyst_settings, ensure_analyst_roles
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ENV_HOST, ConnectionSettings
from ingestion.sources.ops.helpers import tombstone_row
from ingestion.transform.dbt_runner import DbtError, run_dbt
from ingestion.transform.slim_ci import production_state_dir
from tests.pipeline.conftest import PIPELINE_SCALE, TICK_DAYS, pipeline_environment

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

ERASED_HERE = 5
PERSONAL = ("first_name", "last_name", "email", "phone", "address")
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")
SYSTEM_SCHEMAS = ["pg_catalog", "information_schema", "pg_toast"]
REVENUE = {
    "fct_sales": "net_revenue_usd",
    "fct_orders": "net_revenue_usd",
    "mart_daily_sales": "net_revenue_usd",
    "mart_monthly_revenue": "net_revenue_usd",
}


@dataclass(frozen=True)
class Person:
    customer_id: int
    first_name: str
    last_name: str
    email: str
    phone: str | None
    address: str


@dataclass
class ErasureWorld:
    settings: ConnectionSettings
    erased: list[Person] = field(default_factory=list)
    revenue_before: dict[str, float] = field(default_factory=dict)
    revenue_after: dict[str, float] = field(default_factory=dict)
    erased_orders: dict[int, float] = field(default_factory=dict)
    history_rows: int = 0

    def query(self, statement: str, *params: object, database: str | None = None) -> list[tuple]:
        with autocommit(self.settings, database or self.settings.database) as cursor:
            cursor.execute(statement, params or None)
            return list(cursor.fetchall()) if cursor.description else []

    def ops(self, statement: str, *params: object) -> list[tuple]:
        return self.query(statement, *params, database=self.settings.ops_database)


def run_pipeline(*args: str) -> None:
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 0, result.output


def people(world: ErasureWorld, where: str, *params: object) -> list[Person]:
    rows = world.ops(
        f"select customer_id, {', '.join(PERSONAL)} from ops.customers where {where}", *params
    )
    return [Person(*row) for row in rows]


def revenue(world: ErasureWorld) -> dict[str, float]:
    return {
        table: float(world.query(f"select coalesce(sum({column}), 0) from marts.{table}")[0][0])
        for table, column in REVENUE.items()
    }


def order_revenue(world: ErasureWorld, customer_ids: list[int]) -> dict[int, float]:
    rows = world.query(
        "select order_id, net_revenue_usd from marts.fct_orders where customer_id = any(%s)",
        customer_ids,
    )
    return {order_id: float(amount) for order_id, amount in rows}


def history_rows(world: ErasureWorld, erased: list[Person]) -> int:
    ids = [person.customer_id for person in erased]
    rows = world.query(
        "select count(*) from snapshots.snap_ops__customers where customer_id = any(%s)", ids
    )
    return int(rows[0][0])


def erase_in_source(world: ErasureWorld, customer_ids: list[int]) -> None:
    """What the order system does on an erasure request (the simulator's tick does the same)."""
    world.ops(
        "with now as (select max(updated_at) + interval '1 second' as at from ops.orders) "
        "update ops.orders as o set customer_id = null, updated_at = now.at from now "
        "where o.customer_id = any(%s)",
        customer_ids,
    )
    world.ops("delete from ops.customers where customer_id = any(%s)", customer_ids)


REFUSED_REASON = "a row the warehouse refused (test)"


def reject_a_row_of(world: ErasureWorld, person: Person) -> None:
    """A rejected record carrying a customer's whole row, as a refused load would leave it."""
    world.query(
        "insert into raw_ops.rejected_records "
        "(resource, reason, raw_payload, load_id, rejected_at, _dlt_load_id, _dlt_id) "
        "values ('customers', %s, %s, '0', now(), '0', %s)",
        REFUSED_REASON,
        json.dumps(asdict(person)),
        uuid.uuid4().hex,
    )


@pytest.fixture(scope="module")
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ErasureWorld]:
    suffix = uuid.uuid4().hex[:8]
    settings = server_settings.with_databases(
        f"shopflow_test_{suffix}_erasure", f"shopflow_test_{suffix}_erasure_ops"
    )
    create_database(settings, settings.database)
    create_database(settings, settings.ops_database)
    env = pipeline_environment(settings, tmp_path_factory.mktemp("erasure"))
    try:
        with pytest.MonkeyPatch.context() as patch:
            if not settings.external:
                patch.delenv(ENV_HOST, raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            run_pipeline("--scale", PIPELINE_SCALE)
            state = ErasureWorld(settings)
            # people with recognised revenue (so revenue is at stake) and a phone
            state.erased = people(
                state,
                "phone is not null and customer_id in (select customer_id from ops.orders "
                "where status in ('paid', 'shipped', 'delivered')) order by customer_id limit %s",
                ERASED_HERE,
            )
            ids = [person.customer_id for person in state.erased]
            reject_a_row_of(state, state.erased[0])
            state.revenue_before = revenue(state)
            state.erased_orders = order_revenue(state, ids)
            erase_in_source(state, ids)
            run_pipeline()
            state.revenue_after = revenue(state)
            state.history_rows = history_rows(state, state.erased)
            yield state
    finally:
        drop_database(settings, settings.database)
        drop_database(settings, settings.ops_database)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)
        shutil.rmtree(production_state_dir(settings), ignore_errors=True)


def searchable_relations(world: ErasureWorld) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Every table and view of every schema, with its columns (name, type)."""
    rows = world.query(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema <> all(%s) and table_schema not like 'pg_temp%%' "
        "order by table_schema, table_name, ordinal_position",
        SYSTEM_SCHEMAS,
    )
    relations: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, kind in rows:
        relations.setdefault((schema, table), []).append((column, kind))
    return relations


def ambiguous_names(world: ErasureWorld, erased: list[Person]) -> set[tuple[str, str]]:
    """Name pairs that a remaining customer or a product reviewer also has: no evidence."""
    living = set(world.ops("select first_name, last_name from ops.customers"))
    reviewers = {
        tuple(name.split(" ", 1))
        for (name,) in world.query("select reviewer_name from raw_storefront.products__reviews")
        if name and " " in name
    }
    return {(p.first_name, p.last_name) for p in erased} & (living | reviewers)


def _hit_query(schema: str, table: str, columns: list[tuple[str, str]]) -> sql.Composable | None:
    texts = [sql.SQL("t.{}::text").format(sql.Identifier(c)) for c, k in columns if k in TEXT_TYPES]
    if not texts:
        return None
    values = sql.SQL("array[{}]").format(sql.SQL(", ").join(texts))
    by_key = sql.SQL("")
    if any(column == "customer_id" for column, _ in columns):
        by_key = sql.SQL(
            " or (t.customer_id::text = p.customer_id::text and {values} && p.personal)"
        ).format(values=values)
    return sql.SQL(
        "select count(*) from {relation} as t join erased_people as p on ("
        "strpos(t::text, p.email) > 0 or strpos(t::text, p.phone) > 0"
        " or (p.name_is_evidence and ((p.first_name = any({values})"
        " and p.last_name = any({values})) or p.full_name = any({values}))){by_key})"
    ).format(relation=sql.Identifier(schema, table), values=values, by_key=by_key)


def pii_hits(world: ErasureWorld, erased: list[Person]) -> dict[str, int]:
    """Rows, per relation, that still hold one of these people's personal data.

    A row is a hit when its text holds their e-mail or phone anywhere (payloads included);
    when one column equals their first and another their last name, or one their full name
    (unless a remaining customer or a reviewer shares that name); and, in any relation with a
    ``customer_id``, when their row holds any of their personal values.
    """
    ambiguous = ambiguous_names(world, erased)
    hits: dict[str, int] = {}
    connection = connect(world.settings)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "create temporary table erased_people (customer_id bigint, first_name text, "
                "last_name text, full_name text, email text, phone text, personal text[], "
                "name_is_evidence boolean)"
            )
            for p in erased:
                personal = [
                    v for v in (p.first_name, p.last_name, p.email, p.phone, p.address) if v
                ]
                cursor.execute(
                    "insert into erased_people values (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        p.customer_id,
                        p.first_name,
                        p.last_name,
                        f"{p.first_name} {p.last_name}",
                        p.email,
                        p.phone,
                        personal,
                        (p.first_name, p.last_name) not in ambiguous,
                    ),
                )
            for (schema, table), columns in searchable_relations(world).items():
                statement = _hit_query(schema, table, columns)
                if statement is None:
                    continue
                cursor.execute(statement)
                count = int(cursor.fetchone()[0])
                if count:
                    hits[f"{schema}.{table}"] = count
    finally:
        connection.close()
    return hits


def test_erasure_leaves_no_personal_data_in_any_table_or_history(world: ErasureWorld) -> None:
    assert len(world.erased) == ERASED_HERE
    # the search finds what it looks for: customers still here show up where they live
    still_here = people(world, "phone is not null order by customer_id limit 2")
    found = pii_hits(world, still_here)
    assert {"raw_ops.customers", "snapshots.snap_ops__customers", "marts.dim_customers"} <= set(
        found
    ), found

    assert pii_hits(world, world.erased) == {}
    # history keeps its shape: every version stays, closed, without a personal value
    rows = world.query(
        "select count(*), count(*) filter (where dbt_valid_to is null), "
        f"count(*) filter (where coalesce({', '.join(PERSONAL)}) is not null) "
        "from snapshots.snap_ops__customers where customer_id = any(%s)",
        [person.customer_id for person in world.erased],
    )
    assert rows[0][0] >= ERASED_HERE
    assert rows[0][1:] == (0, 0)
    in_dimension = world.query(
        "select bool_and(is_erased), count(*) from marts.dim_customers where customer_id = any(%s)",
        [person.customer_id for person in world.erased],
    )
    assert in_dimension[0] == (True, world.history_rows)
    # a rejected record that carried one of them stays, without its payload
    rejected = world.query(
        "select count(*) from raw_ops.rejected_records where reason = %s and raw_payload is null",
        REFUSED_REASON,
    )
    assert rejected[0][0] == 1


def test_revenue_is_unchanged_by_the_erasure(world: ErasureWorld) -> None:
    assert world.revenue_before["fct_sales"] > 0
    assert world.revenue_after == pytest.approx(world.revenue_before, abs=0.005)
    # the erased people's orders stay, with the same amounts, without a customer
    assert world.erased_orders and sum(world.erased_orders.values()) > 0
    rows = world.query(
        "select order_id, net_revenue_usd, customer_id from marts.fct_orders "
        "where order_id = any(%s)",
        list(world.erased_orders),
    )
    assert {order_id: float(amount) for order_id, amount, _ in rows} == world.erased_orders
    assert {customer_id for _, _, customer_id in rows} == {None}


def test_tombstone_rows_carry_only_the_key() -> None:
    row = {
        "customer_id": 7,
        "first_name": "Ann",
        "email": "ann@example.com",
        "phone": "+44 1",
        "registered_at": "2025-01-01",
        "_dlt_id": "x",
    }
    kinds = {
        "customer_id": (False, False),
        "first_name": (True, False),
        "email": (True, False),
        "phone": (True, True),
        "registered_at": (False, False),
    }
    assert tombstone_row(row, "customer_id", kinds) == {
        "customer_id": 7,
        "first_name": "",
        "email": "",
        "phone": None,
        "registered_at": "2025-01-01",
        "_deleted_in_source": True,
    }


def analyst(world: ErasureWorld) -> psycopg2.extensions.connection:
    exists = world.query("select count(*) from pg_roles where rolname = %s", ANALYST_ROLE)
    if world.settings.external or not exists[0][0]:
        pytest.skip("the analyst roles exist only where `shopflow db start` could create them")
    connection = connect(analyst_settings(world.settings))
    connection.autocommit = True
    return connection


def refused(connection: psycopg2.extensions.connection, statement: str) -> bool:
    with connection.cursor() as cursor:
        try:
            cursor.execute(statement)
        except psycopg2.errors.InsufficientPrivilege:
            return True
    return False


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
        "snapshots.snap_ops__customers",
        "intermediate.int_customer_versions_windowed",
        "staging.stg_ops__customers",
        "staging.stg_storefront__product_reviews",
        "staging.stg_ops__rejected_records",
    ):
        assert refused(connection, f"select * from {relation} limit 1"), relation
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
        assert refused(connection, statement), statement
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


def test_a_simulated_week_with_erasures_scrubs_them_and_adds_no_version(
    world: ErasureWorld,
) -> None:
    before = people(world, "true")
    run_pipeline("--tick", TICK_DAYS)
    remaining = {row[0] for row in world.ops("select customer_id from ops.customers")}
    erased_by_tick = [person for person in before if person.customer_id not in remaining]
    assert erased_by_tick, "the simulated week erases at least one customer"
    assert pii_hits(world, erased_by_tick + world.erased) == {}
    assert history_rows(world, world.erased) == world.history_rows


def test_a_mass_disappearance_is_refused_and_rolled_back(world: ErasureWorld) -> None:
    """A half-loaded customers table must not erase history: the snapshot fails instead."""
    world.query("create table raw_ops.customers_kept as select * from raw_ops.customers")
    world.query("delete from raw_ops.customers where customer_id % 4 = 0")
    with_personal = "select count(*) from snapshots.snap_ops__customers where email is not null"
    before = world.query(with_personal)[0][0]
    try:
        with pytest.raises(DbtError, match="erasure_max_share"):
            run_dbt(["snapshot", "-s", "snap_ops__customers"], world.settings, stream=False)
        assert world.query(with_personal)[0][0] == before
        # the snapshot's own invalidation of the vanished keys was rolled back with it
        still_current = world.query(
            "select count(*) from snapshots.snap_ops__customers as s "
            "where s.dbt_valid_to is null and not exists "
            "(select 1 from raw_ops.customers as c where c.customer_id = s.customer_id)"
        )
        assert still_current[0][0] > 0
    finally:
        world.query(
            "truncate raw_ops.customers; "
            "insert into raw_ops.customers select * from raw_ops.customers_kept; "
            "drop table raw_ops.customers_kept"
        )


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
