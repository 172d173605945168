"""Plumbing of the operations-database source: key reconciliation for hard deletes.

The order system hard-deletes customers on an erasure request. An incremental read on
``updated_at`` never sees a row that no longer exists, so every run compares the primary
keys in the source with those already in the warehouse; a key found only in the warehouse
becomes a tombstone row (its key plus the ``hard_delete`` flag), and dlt's merge deletes it.

A tombstone carries nothing personal: dlt's staging table (``<dataset>_staging.<table>``) keeps
the last batch until the next load, so an erased customer's name or e-mail must never reach
it. Only the key is kept; text columns become null, or a neutral placeholder where the source
declares them NOT NULL (the merge's staging table keeps those constraints); other NOT NULL
columns (timestamps) keep their last loaded value.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from dlt.common.configuration.container import Container
from dlt.common.pipeline import PipelineContext, SupportsPipeline
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from ingestion.sources.ops.settings import DELETED_FLAG_COLUMN, KEY_BATCH_SIZE

log = logging.getLogger(__name__)

ERASED_TEXT = ""
"""What a tombstone holds in a NOT NULL text column: nothing that identifies anyone."""

TEXT_TYPES = frozenset({"text", "character varying", "character"})


def source_keys(engine: sa.Engine, schema: str, table: str, key: str) -> set[Any]:
    """Every primary key currently in a source table."""
    query = sa.text(f'select "{key}" from "{schema}"."{table}"')
    keys: set[Any] = set()
    with engine.connect() as connection:
        result = connection.execution_options(yield_per=KEY_BATCH_SIZE).execute(query)
        for partition in result.partitions():
            keys.update(row[0] for row in partition)
    return keys


def warehouse_keys(pipeline: SupportsPipeline, table: str, key: str) -> set[Any]:
    """Every primary key of the warehouse copy of ``table`` (empty before the first load)."""
    with pipeline.sql_client() as client:  # type: ignore[attr-defined]
        qualified = client.make_qualified_table_name(table)
        try:
            rows = client.execute_sql(f'select "{key}" from {qualified}')
        except DatabaseUndefinedRelation:
            return set()
    return {row[0] for row in rows or []}


def active_pipeline() -> SupportsPipeline:
    """The pipeline running the resource, from dlt's context: ``dlt.current.pipeline()``
    resolves dlt's pipeline configuration on every call, a cost a run pays per table."""
    return Container()[PipelineContext].pipeline()


@contextmanager
def warehouse_cursor() -> Iterator[Any]:
    """A cursor on the warehouse through the running pipeline's client (which resolves dlt's
    configuration and connects: open it only when needed)."""
    with (
        active_pipeline().sql_client() as client,  # type: ignore[attr-defined]
        client.native_connection.cursor() as cursor,
    ):
        yield cursor


def column_kinds(client: Any, table: str) -> dict[str, tuple[bool, bool]]:
    """Per column of the warehouse copy of ``table``: (is text, is nullable)."""
    rows = client.execute_sql(
        "select column_name, data_type, is_nullable from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        client.dataset_name,
        table,
    )
    return {name: (kind in TEXT_TYPES, nullable == "YES") for name, kind, nullable in rows or []}


def tombstone_row(
    row: dict[str, Any], key: str, kinds: dict[str, tuple[bool, bool]]
) -> dict[str, Any]:
    """A row reduced to its key: text blanked or nulled, nullable columns nulled, flag set."""
    tombstone: dict[str, Any] = {}
    for name, value in row.items():
        if name.startswith("_dlt"):
            continue
        is_text, nullable = kinds.get(name, (True, True))
        if name == key:
            tombstone[name] = value
        elif nullable:
            tombstone[name] = None
        else:
            tombstone[name] = ERASED_TEXT if is_text else value
    tombstone[DELETED_FLAG_COLUMN] = True
    return tombstone


def tombstones(
    pipeline: SupportsPipeline, table: str, key: str, missing: set[Any]
) -> Iterator[list[dict[str, Any]]]:
    """Tombstone rows (see ``tombstone_row``) for the ``missing`` keys, in batches.

    The last loaded row is read only to keep what the table's NOT NULL constraints demand;
    every text value is dropped before anything is yielded.
    """
    ordered = sorted(missing)
    with pipeline.sql_client() as client:  # type: ignore[attr-defined]
        qualified = client.make_qualified_table_name(table)
        kinds = column_kinds(client, table)
        for start in range(0, len(ordered), KEY_BATCH_SIZE):
            batch = ordered[start : start + KEY_BATCH_SIZE]
            with client.execute_query(
                f'select * from {qualified} where "{key}" = any(%s)', batch
            ) as cursor:
                names = [column[0] for column in cursor.description]
                rows = cursor.fetchall()
            yield [tombstone_row(dict(zip(names, row, strict=True)), key, kinds) for row in rows]


def psycopg2_url(url: str) -> str:
    """A SQLAlchemy URL using psycopg2 (SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url
