"""The operations database (``shopflow_ops``, schema ``ops``) read with dlt's ``sql_database``.

Configuration: the connection string as ``SOURCES__OPS__CREDENTIALS`` (or passed in).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import dlt
import psycopg2
import sqlalchemy as sa
from dlt.extract.resource import DltResource
from dlt.sources.sql_database import sql_table

from ingestion.sources.cursor_trust import METRIC_REPAIRED, due
from ingestion.sources.ops.capture import LogCapture
from ingestion.sources.ops.change_log_resources import (
    change_log_resource_names,
    with_change_log,
)
from ingestion.sources.ops.cursor import ClampedCursor
from ingestion.sources.ops.dlt_schema import follow_raw_tables_in_pipeline
from ingestion.sources.ops.drift import align_raw_columns
from ingestion.sources.ops.folded_changes import TypedRows
from ingestion.sources.ops.helpers import (
    active_pipeline,
    psycopg2_url,
    source_keys,
    tombstones,
    warehouse_cursor,
    warehouse_keys,
)
from ingestion.sources.ops.reconcile import source_rows, stale_keys
from ingestion.sources.ops.settings import (
    CHUNK_SIZE,
    CLOCK_QUERY,
    CURSOR_OVERLAP_SECONDS,
    DATASET_NAME,
    DELETED_FLAG_COLUMN,
    RECONCILE_BUCKET_SIZE,
    RECONCILE_EVERY_RUNS,
    SOURCE_SCHEMA,
    TABLE_PRIMARY_KEYS,
)
from ingestion.sources.validation import (
    METRIC_RECORDS_IN,
    METRIC_REJECTED,
    RecordsInCounter,
    count_metric,
    rejected_record,
)

log = logging.getLogger(__name__)

SHOWN_REPAIRS = 10
"""Repaired keys named in the log line; the count says how many in all."""


@dlt.source(name="ops")
def ops_source(
    credentials: str = dlt.secrets.value,
    schema: str = SOURCE_SCHEMA,
    table_names: list[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    warehouse_credentials: str | None = None,
    clock_query: str = CLOCK_QUERY,
    cursor_overlap_seconds: float = CURSOR_OVERLAP_SECONDS,
    reconcile_every_runs: int = RECONCILE_EVERY_RUNS,
    reconcile_bucket_size: int = RECONCILE_BUCKET_SIZE,
) -> list[DltResource]:
    """The order system's tables, each merged on its primary key, plus their deletions.

    For each table: a ``<table>`` resource (``sql_table``, pyarrow backend, chunked,
    on an ``updated_at`` cursor clamped to the source's clock, see ``cursor``; the first run
    loads everything) and a ``<table>_deletions`` resource writing tombstones into the same
    table for keys that disappeared from the source (see ``helpers``) and, every
    ``reconcile_every_runs`` runs, the rows the cursor missed (see ``reconcile``). A table
    with history also logs the states and deletions seen to its change log (``change_log``).

    Args:
        credentials: SQLAlchemy URL of the operations database.
        schema: The schema holding the order system's tables.
        table_names: A subset of the tables (default: all of ``TABLE_PRIMARY_KEYS``).
        chunk_size: Rows per Arrow batch.
        warehouse_credentials: URL of the warehouse; when given, the raw tables (and dlt's
            schema of them) first take the source's column changes (see ``drift``).
        clock_query: SQL answering the source's "now" (the cursor never passes it).
        cursor_overlap_seconds: How far before the cursor each run reads again.
        reconcile_every_runs: Range reconciliation every this many runs (0: never).
        reconcile_bucket_size: Keys per range the reconciliation compares at once.
    """
    # no pool: each load unit builds its own source, so pooled connections would pile up idle
    engine = sa.create_engine(psycopg2_url(credentials), poolclass=sa.pool.NullPool)
    tables = table_names or list(TABLE_PRIMARY_KEYS)
    if warehouse_credentials:
        follow_source_columns(engine, warehouse_credentials, schema, tables)
    resources: list[DltResource] = []
    present = set(sa.inspect(engine).get_table_names(schema=schema))
    for table in tables:
        key = TABLE_PRIMARY_KEYS[table]
        if table not in present:
            # only this table's unit fails, with the reason; raw keeps its rows meanwhile
            resources.extend(missing_table(schema, table).with_name(n) for n in unit_names(table))
            continue
        clamped = ClampedCursor(
            table, key, engine, clock_query, dt.timedelta(seconds=cursor_overlap_seconds)
        )
        rows = sql_table(
            credentials=engine,
            table=table,
            schema=schema,
            backend="pyarrow",
            chunk_size=chunk_size,
            reflection_level="full_with_precision",
            query_adapter_callback=clamped.restrict,
            primary_key=key,
            write_disposition="merge",
        )
        rows.add_yield_map(clamped.admit)
        rows.add_step(RecordsInCounter())
        gone = (
            deletions(
                engine, schema, table, key, clamped, reconcile_every_runs, reconcile_bucket_size
            )
            .with_name(f"{table}_deletions")
            .apply_hints(table_name=table, primary_key=key)
        )
        resources.extend(with_change_log(table, key, rows, gone))
    return resources


@dlt.source(name="ops")
def ops_log_source(
    capture: LogCapture,
    credentials: str = dlt.secrets.value,
    warehouse_credentials: str | None = None,
) -> list[DltResource]:
    """The order system's tables from its log (see ``capture``): per table a ``<table>``
    resource merging the rows written (all of them on an initial copy) and a
    ``<table>_deletions`` resource with tombstones for the keys deleted; a table with history
    also appends every change to its change log (``change_log``).

    Args:
        capture: This run's read of the log (or its initial copy), shared by the load units.
        credentials: SQLAlchemy URL of the operations database (for the drift rules).
        warehouse_credentials: URL of the warehouse; when given, the raw tables first take
            the source's column changes (see ``drift``).
    """
    tables = list(capture.tables)
    if warehouse_credentials:
        engine = sa.create_engine(psycopg2_url(credentials), poolclass=sa.pool.NullPool)
        follow_source_columns(engine, warehouse_credentials, capture.schema, tables)
    resources: list[DltResource] = []
    for table, key in capture.tables.items():
        if table not in capture.present:
            # only this table's unit fails, with the reason; the log is not confirmed past it
            resources.extend(
                missing_table(capture.schema, table).with_name(n) for n in unit_names(table)
            )
            continue
        rows = dlt.resource(
            logged_rows(capture, table), name=table, write_disposition="merge", primary_key=key
        )
        rows.add_step(RecordsInCounter())
        gone = (
            logged_deletions(capture, table, key)
            .with_name(f"{table}_deletions")
            .apply_hints(table_name=table, primary_key=key)
        )
        resources.extend(with_change_log(table, key, rows, gone, capture))
    return resources


def logged_rows(capture: LogCapture, table: str) -> Iterator[Any]:
    """The rows of ``table`` the log wrote since the last run (or the whole initial copy);
    a row with a value its raw column cannot take goes to ``rejected_records`` instead."""
    if capture.reads_whole(table):
        batches: Iterator[TypedRows] = capture.copied_rows(table)
    else:
        upserts = capture.upserts(table, warehouse_cursor)
        batches = iter([upserts] if upserts is not None else [])
    for typed in batches:
        if typed.refused:
            count_metric(METRIC_REJECTED, len(typed.refused))
            for reason, payload in typed.refused:
                yield rejected_record(table, reason, payload)
        for start in range(0, typed.batch.num_rows, CHUNK_SIZE):
            yield typed.batch.slice(start, CHUNK_SIZE)


@dlt.resource(
    write_disposition="merge",
    columns={DELETED_FLAG_COLUMN: {"data_type": "bool", "hard_delete": True, "nullable": True}},
)
def logged_deletions(capture: LogCapture, table: str, key: str) -> Iterator[Any]:
    """Tombstones for the keys of ``table`` the log deleted (or truncated) since the last
    run; on an initial copy, for the keys raw holds that the copy does not."""
    pipeline = active_pipeline()
    if capture.reads_whole(table):
        gone = warehouse_keys(pipeline, table, key) - capture.copied_keys(table)
    else:
        gone = set(capture.deleted_keys(table, lambda: warehouse_keys(pipeline, table, key)))
    deleted = 0
    for batch in tombstones(pipeline, table, key, gone) if gone else ():
        deleted += len(batch)
        yield batch
    if deleted:
        log.info("ops.%s: %d key(s) deleted in the source", table, deleted)
        dlt.current.resource_metrics()["deleted"] = deleted


def unit_names(table: str) -> tuple[str, ...]:
    """The resources that fill one raw table (its load unit): the rows, the deletions and,
    for a table with history, its change log's (see ``change_log_resources``)."""
    return (table, f"{table}_deletions", *change_log_resource_names(table))


class SourceTableMissingError(RuntimeError):
    """A table the source reads is gone from the operations database."""


def follow_source_columns(
    engine: sa.Engine, warehouse_credentials: str, schema: str, tables: list[str]
) -> None:
    """The raw tables (and dlt's schema of them) take the source's column changes (``drift``)."""
    with closing(psycopg2.connect(warehouse_credentials)) as connection:
        connection.autocommit = True
        with connection.cursor() as cursor:
            align_raw_columns(
                engine, cursor, schema, (DATASET_NAME, f"{DATASET_NAME}_staging"), tables
            )
            follow_raw_tables_in_pipeline("ops", cursor, DATASET_NAME, tables)


@dlt.resource
def missing_table(schema: str, table: str) -> Iterator[Any]:
    """Stands for a table gone from the source: its load unit fails with the reason."""
    raise SourceTableMissingError(
        f"{schema}.{table} no longer exists in the operations database (dropped or renamed "
        "upstream): restore it under its name, or rename it in TABLE_PRIMARY_KEYS and the dbt "
        f"source; raw_ops.{table} keeps its rows and the models built on it stay stale meanwhile"
    )
    yield  # a generator, so the error is raised when the unit extracts


@dlt.resource(
    write_disposition="merge",
    columns={DELETED_FLAG_COLUMN: {"data_type": "bool", "hard_delete": True, "nullable": True}},
)
def deletions(
    engine: sa.Engine,
    schema: str,
    table: str,
    key: str,
    cursor: ClampedCursor,
    every_runs: int = RECONCILE_EVERY_RUNS,
    bucket_size: int = RECONCILE_BUCKET_SIZE,
) -> Iterator[Any]:
    """Tombstones for keys in the warehouse copy of ``table`` that the source no longer has,
    and, when the range reconciliation is due, the source rows the cursor missed.

    Key reconciliation on every run: dlt's ``hard_delete`` column hint makes the merge delete
    those keys. Yields nothing when nothing was deleted or missed.
    """
    pipeline = dlt.current.pipeline()
    missing = warehouse_keys(pipeline, table, key) - source_keys(engine, schema, table, key)
    if missing:
        log.info("ops.%s: %d key(s) deleted in the source", table, len(missing))
        dlt.current.resource_metrics()["deleted"] = len(missing)
        yield from tombstones(pipeline, table, key, missing)
    since = cursor.window_start()
    if since is None or not due(dlt.current.resource_state(), every_runs):
        return
    with (
        pipeline.sql_client() as client,
        client.native_connection.cursor() as raw,
    ):
        stale = stale_keys(engine, raw, schema, client.dataset_name, table, key, bucket_size)
    repaired: list[Any] = []
    for rows in source_rows(engine, schema, table, key, stale, since):
        repaired.extend(row[key] for row in rows)
        yield rows
    if repaired:
        shown = ", ".join(str(k) for k in repaired[:SHOWN_REPAIRS])
        log.warning(
            "ops.%s: %d row(s) the cursor missed repaired (%s=%s)",
            table,
            len(repaired),
            key,
            shown,
        )
        count_metric(METRIC_REPAIRED, len(repaired))
        count_metric(METRIC_RECORDS_IN, len(repaired))
