"""The operations database (``shopflow_ops``, schema ``ops``) read with dlt's ``sql_database``.

Configuration: the connection string as ``SOURCES__OPS__CREDENTIALS`` (or passed in).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import closing
from typing import Any

import dlt
import psycopg2
import sqlalchemy as sa
from dlt.extract.resource import DltResource
from dlt.sources.sql_database import sql_table

from ingestion.sources.ops.drift import align_raw_types
from ingestion.sources.ops.helpers import psycopg2_url, source_keys, tombstones, warehouse_keys
from ingestion.sources.ops.settings import (
    CHUNK_SIZE,
    CURSOR_COLUMN,
    DATASET_NAME,
    DELETED_FLAG_COLUMN,
    SOURCE_SCHEMA,
    TABLE_PRIMARY_KEYS,
)
from ingestion.sources.validation import RecordsInCounter

log = logging.getLogger(__name__)


@dlt.source(name="ops")
def ops_source(
    credentials: str = dlt.secrets.value,
    schema: str = SOURCE_SCHEMA,
    table_names: list[str] | None = None,
    chunk_size: int = CHUNK_SIZE,
    warehouse_credentials: str | None = None,
) -> list[DltResource]:
    """The order system's tables, each merged on its primary key, plus their deletions.

    For each table: a ``<table>`` resource (``sql_table``, pyarrow backend, chunked,
    incremental on ``updated_at``; the first run loads everything) and a
    ``<table>_deletions`` resource writing tombstones into the same table for keys that
    disappeared from the source (see ``helpers``).

    Args:
        credentials: SQLAlchemy URL of the operations database.
        schema: The schema holding the order system's tables.
        table_names: A subset of the tables (default: all of ``TABLE_PRIMARY_KEYS``).
        chunk_size: Rows per Arrow batch.
        warehouse_credentials: URL of the warehouse; when given, raw columns whose source
            column changed type are widened first (see ``drift``).
    """
    # no pool: each load unit builds its own source, so pooled connections would pile up idle
    engine = sa.create_engine(psycopg2_url(credentials), poolclass=sa.pool.NullPool)
    tables = table_names or list(TABLE_PRIMARY_KEYS)
    if warehouse_credentials:
        with closing(psycopg2.connect(warehouse_credentials)) as connection:
            connection.autocommit = True
            with connection.cursor() as cursor:
                align_raw_types(
                    engine, cursor, schema, (DATASET_NAME, f"{DATASET_NAME}_staging"), tables
                )
    resources: list[DltResource] = []
    for table in tables:
        key = TABLE_PRIMARY_KEYS[table]
        rows = sql_table(
            credentials=engine,
            table=table,
            schema=schema,
            backend="pyarrow",
            chunk_size=chunk_size,
            reflection_level="full_with_precision",
            incremental=dlt.sources.incremental(CURSOR_COLUMN),
            primary_key=key,
            write_disposition="merge",
        )
        rows.add_step(RecordsInCounter())
        resources.append(rows)
        resources.append(
            deletions(engine, schema, table, key)
            .with_name(f"{table}_deletions")
            .apply_hints(table_name=table, primary_key=key)
        )
    return resources


@dlt.resource(
    write_disposition="merge",
    columns={DELETED_FLAG_COLUMN: {"data_type": "bool", "hard_delete": True, "nullable": True}},
)
def deletions(engine: sa.Engine, schema: str, table: str, key: str) -> Iterator[Any]:
    """Tombstones for keys in the warehouse copy of ``table`` that the source no longer has.

    Key reconciliation on every run: dlt's ``hard_delete`` column hint makes the merge delete
    those keys. Yields nothing when nothing was deleted.
    """
    pipeline = dlt.current.pipeline()
    missing = warehouse_keys(pipeline, table, key) - source_keys(engine, schema, table, key)
    if missing:
        log.info("ops.%s: %d key(s) deleted in the source", table, len(missing))
        dlt.current.resource_metrics()["deleted"] = len(missing)
        yield from tombstones(pipeline, table, key, missing)
