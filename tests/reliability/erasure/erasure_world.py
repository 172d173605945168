"""The erasure world's parts: the people erased, what the order system does to them, the
revenue at stake, and the search of every relation for their personal data."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field

from psycopg2 import sql
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database.connection import autocommit, connect
from ingestion.settings import ConnectionSettings

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
    assert result.exit_code == 0, result.output + repr(result.exception)


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
    """Their versions, as built from the change log."""
    ids = [person.customer_id for person in erased]
    rows = world.query(
        "select count(*) from staging.stg_ops__customer_versions where customer_id = any(%s)",
        ids,
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
