"""Raw equals source, row by row: what every change data capture fault test asserts.

Each ``ops`` table is read on both sides with every source column cast to text (the log
reader's ``_cdc_*``, dlt's ``_dlt_*`` and the tombstone column exist in raw only and are left
out), keyed by its primary key. A key raw holds twice is reported as well as a key one side
lacks or a row that differs: nothing lost, nothing doubled.

The test server commits asynchronously (``synchronous_commit=off``, see docs/database.md) and
logical decoding reads only flushed log: the capture itself waits for the commits made before a
run to be flushed, so the tests change the source and ingest with nothing in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import closing

from psycopg2 import sql

from ingestion.database.connection import autocommit, connect
from ingestion.loading.runner import IngestReport
from ingestion.settings import OPS_CAPTURE_CDC, ConnectionSettings
from ingestion.sources.ops.settings import DATASET_NAME, SOURCE_SCHEMA, TABLE_PRIMARY_KEYS
from tests.integration.ingest_support import IngestWorld

WORLD_SCALE = 0.05
"""The worlds here are small: every test is about the shape of the changes, not their number."""

Row = tuple[str | None, ...]
SHOWN = 5
"""Differing keys named per table in a failure message."""


def ops_transaction(settings: ConnectionSettings, *statements: str) -> None:
    """Run ``statements`` on the operations DB in one transaction (the next read waits for its
    commit to reach the flushed log: ``flushed_log_end``)."""
    with (
        closing(connect(settings, settings.ops_database)) as connection,
        connection,
        connection.cursor() as cursor,
    ):
        for statement in statements:
            cursor.execute(statement)


def source_columns(settings: ConnectionSettings, table: str) -> list[str]:
    """The columns of ``ops.<table>`` in the operations DB, in their order."""
    with autocommit(settings, settings.ops_database) as cursor:
        cursor.execute(
            "select column_name from information_schema.columns"
            " where table_schema = %s and table_name = %s order by ordinal_position",
            (SOURCE_SCHEMA, table),
        )
        return [name for (name,) in cursor.fetchall()]


def rows_as_text(
    settings: ConnectionSettings, database: str, schema: str, table: str, columns: list[str]
) -> list[Row]:
    """Every row of ``schema.table`` as text, the key (the first of ``columns``) first."""
    with autocommit(settings, database) as cursor:
        cursor.execute(
            sql.SQL("select {} from {}").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
                sql.Identifier(schema, table),
            )
        )
        return list(cursor.fetchall())


def differences(settings: ConnectionSettings, table: str) -> list[str]:
    """What keeps ``raw_ops.<table>`` from equalling ``ops.<table>``, one line per key."""
    key = TABLE_PRIMARY_KEYS[table]
    columns = [key, *(c for c in source_columns(settings, table) if c != key)]
    source = {
        row[0]: row
        for row in rows_as_text(settings, settings.ops_database, SOURCE_SCHEMA, table, columns)
    }
    raw_rows = rows_as_text(settings, settings.database, DATASET_NAME, table, columns)
    raw: dict[str | None, Row] = {}
    found: list[str] = []
    for row in raw_rows:
        if row[0] in raw:
            found.append(f"{key}={row[0]} held twice in raw")
        raw[row[0]] = row
    for name in sorted(set(source) | set(raw), key=str):
        if name not in raw:
            found.append(f"{key}={name} missing from raw")
        elif name not in source:
            found.append(f"{key}={name} in raw but not in the source")
        elif raw[name] != source[name]:
            changed = [
                f"{c}: source {s!r:.60} raw {r!r:.60}"
                for c, s, r in zip(columns, source[name], raw[name], strict=True)
                if s != r
            ]
            found.append(f"{key}={name} differs ({'; '.join(changed)})")
    return found


def assert_raw_equals_source(
    settings: ConnectionSettings, tables: Iterable[str] = TABLE_PRIMARY_KEYS
) -> None:
    """Every raw table equals its source table, row by row."""
    found = {table: lines for table in tables if (lines := differences(settings, table))}
    assert not found, "raw_ops differs from ops: " + "; ".join(
        f"{table}: {len(lines)} ({', '.join(lines[:SHOWN])})" for table, lines in found.items()
    )


def rows_loaded(report: IngestReport) -> dict[str, int]:
    """Rows each table's unit loaded (tombstones included), after checking every unit ran."""
    assert report.ok, [(u.table, u.status, u.error) for u in report.units]
    return {unit.table: unit.rows_loaded for unit in report.units}


LAST_LOGGED = """
select customer_id::text, _cdc_op, {columns}
from (
    select
        changes.*,
        row_number() over (
            partition by customer_id
            order by _changed_at desc, coalesce(_cdc_lsn, 0) desc, _change_seq desc
        ) as newest
    from raw_ops.customers_changes as changes
) as ordered
where newest = 1
"""


def change_log_differences(settings: ConnectionSettings) -> list[str]:
    """What keeps the customers' change log from ending where the source is: per key, the
    last change logged must be the source's row, or a delete for a key the source lost."""
    columns = [c for c in source_columns(settings, "customers") if c != "customer_id"]
    source = {
        row[0]: row[1:]
        for row in rows_as_text(
            settings, settings.ops_database, SOURCE_SCHEMA, "customers", ["customer_id", *columns]
        )
    }
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(LAST_LOGGED.format(columns=", ".join(f"{c}::text" for c in columns)))
        last = {row[0]: (row[1], row[2:]) for row in cursor.fetchall()}
    found = [f"customer_id={key} never logged" for key in source if key not in last]
    for key, (op, values) in last.items():
        if key not in source and op != "delete":
            found.append(f"customer_id={key} gone from the source, last logged as {op}")
        elif key in source and (op == "delete" or values != source[key]):
            found.append(f"customer_id={key}: last logged {op} {values!r:.120}")
    return found


def ingest(world: IngestWorld) -> dict[str, int]:
    """One ops run from the log; the rows each table loaded."""
    return rows_loaded(world.ingest("ops", ops_capture=OPS_CAPTURE_CDC))


def first_key(world: IngestWorld, table: str, key: str, offset: int = 0) -> int:
    found = world.scalar(
        f"select {key} from ops.{table} order by {key} offset {offset} limit 1", ops=True
    )
    return int(found)  # type: ignore[call-overload]
