"""Plumbing of the operations-database source: key reconciliation for hard deletes.

The order system hard-deletes customers on an erasure request. An incremental read on
``updated_at`` never sees a row that no longer exists, so every run compares the primary
keys in the source with those already in the warehouse; a key found only in the warehouse
becomes a tombstone row (its last loaded values plus the ``hard_delete`` flag), and dlt's
merge deletes it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from dlt.common.pipeline import SupportsPipeline
from dlt.destinations.exceptions import DatabaseUndefinedRelation

from ingestion.sources.ops.settings import DELETED_FLAG_COLUMN, KEY_BATCH_SIZE

log = logging.getLogger(__name__)


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


def tombstones(
    pipeline: SupportsPipeline, table: str, key: str, missing: set[Any]
) -> Iterator[list[dict[str, Any]]]:
    """The last loaded rows of ``missing`` keys, flagged for deletion, in batches.

    The full row (not just the key) is sent so the merge's staging table, which keeps the
    source's NOT NULL constraints, accepts it.
    """
    ordered = sorted(missing)
    with pipeline.sql_client() as client:  # type: ignore[attr-defined]
        qualified = client.make_qualified_table_name(table)
        for start in range(0, len(ordered), KEY_BATCH_SIZE):
            batch = ordered[start : start + KEY_BATCH_SIZE]
            with client.execute_query(
                f'select * from {qualified} where "{key}" = any(%s)', batch
            ) as cursor:
                names = [column[0] for column in cursor.description]
                rows = cursor.fetchall()
            yield [
                {
                    **{n: v for n, v in zip(names, row, strict=True) if not n.startswith("_dlt")},
                    DELETED_FLAG_COLUMN: True,
                }
                for row in rows
            ]


def psycopg2_url(url: str) -> str:
    """A SQLAlchemy URL using psycopg2 (SQLAlchemy 2.1 reads ``postgresql://`` as psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url
