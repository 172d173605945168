"""`shopflow ingest --full-refresh` without a window of loss: reload beside, swap on success.

A full refresh of a source loads everything into a shadow dataset (``raw_<source>_refresh``)
with a working folder of its own, while ``raw_<source>`` stays as it was and readable. Only
when every load unit succeeded are the two swapped, in one transaction: the old schema is
renamed away, the shadow renamed into place, the old one dropped (``cascade``: dbt views on
the raw tables go with it, the next ``dbt build`` recreates them). If any unit fails, the
shadow is dropped and the raw schema, dlt's state in it and the local state are untouched.

After the swap dlt's state lives in the swapped-in schema (``_dlt_pipeline_state``, written
by the same pipeline name); the source's local folder is removed beforehand and restored
from there, so the next incremental run carries on from the reloaded data.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

import psycopg2.extensions
from psycopg2 import sql

from ingestion.database.connection import connect
from ingestion.loading.registry import IngestContext, SourceSpec
from ingestion.loading.runtime import (
    drop_datasets,
    make_pipeline,
    pipeline_name,
    pipelines_dir,
    refresh_pipelines_dir,
    shadow_dataset,
)
from ingestion.loading.source_run import IngestObserver, SourceRun
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

REPLACED_SUFFIX = "_replaced"

RunSource = Callable[..., SourceRun]
"""``runner.run_source``: passed in, so this module does not import the runner."""


def discard_refresh(source: str, dataset_name: str, settings: ConnectionSettings) -> None:
    """Drop a shadow dataset and its working folder (a failed or interrupted refresh)."""
    drop_datasets(settings, shadow_dataset(dataset_name))
    shutil.rmtree(refresh_pipelines_dir(settings) / pipeline_name(source), ignore_errors=True)


def _schema_exists(cursor: psycopg2.extensions.cursor, name: str) -> bool:
    cursor.execute("select 1 from pg_namespace where nspname = %s", (name,))
    return cursor.fetchone() is not None


def _drop_schema(cursor: psycopg2.extensions.cursor, name: str) -> None:
    cursor.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))


def swap_in_refresh(
    source: str,
    dataset_name: str,
    settings: ConnectionSettings,
    kept_tables: Mapping[str, str] | None = None,
) -> None:
    """Put a complete shadow dataset in place of ``dataset_name``, in one transaction; the
    rows of ``kept_tables`` (table -> identifying column) the reload lacks are carried over."""
    shadow = shadow_dataset(dataset_name)
    replaced = f"{dataset_name}{REPLACED_SUFFIX}"
    # first the local state: if the swap then fails, dlt restores it from the old schema
    shutil.rmtree(pipelines_dir(settings) / pipeline_name(source), ignore_errors=True)
    conn = connect(settings, settings.database)
    try:
        with conn, conn.cursor() as cursor:
            _drop_schema(cursor, replaced)
            if _schema_exists(cursor, dataset_name):
                cursor.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(dataset_name), sql.Identifier(replaced)
                    )
                )
            cursor.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(shadow), sql.Identifier(dataset_name)
                )
            )
            for table, key in (kept_tables or {}).items():
                _carry_over(cursor, replaced, dataset_name, table, key)
            _drop_schema(cursor, replaced)
            # dlt's merge staging datasets hold nothing worth keeping between runs
            _drop_schema(cursor, f"{dataset_name}_staging")
            _drop_schema(cursor, f"{shadow}_staging")
    finally:
        conn.close()
    log.info("full refresh of %s: %s swapped in as %s", source, shadow, dataset_name)
    shutil.rmtree(refresh_pipelines_dir(settings) / pipeline_name(source), ignore_errors=True)
    with _quiet_dataset_name_warning():
        make_pipeline(source, dataset_name, settings).sync_destination()


class _DatasetNameWarning(logging.Filter):
    """dlt warns that restored state names another dataset: expected after a swap."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "contains a different dataset_name" not in record.getMessage()


@contextmanager
def _quiet_dataset_name_warning() -> Iterator[None]:
    from dlt.common import logger as dlt_logger

    loggers = {logging.getLogger("dlt")}
    if dlt_logger.LOGGER is not None:
        loggers.add(dlt_logger.LOGGER)
    quiet = _DatasetNameWarning()
    for each in loggers:
        each.addFilter(quiet)
    try:
        yield
    finally:
        for each in loggers:
            each.removeFilter(quiet)


def _column_types(cursor: psycopg2.extensions.cursor, schema: str, table: str) -> dict[str, str]:
    """A table's columns and their types, in order (empty when the table does not exist)."""
    cursor.execute(
        "select attname, format_type(atttypid, atttypmod) from pg_attribute"
        " where attrelid = to_regclass(%s) and attnum > 0 and not attisdropped order by attnum",
        (f'"{schema}"."{table}"',),
    )
    return {str(name): str(kind) for name, kind in cursor.fetchall()}


def _carry_over(
    cursor: psycopg2.extensions.cursor, old: str, new: str, table: str, key: str
) -> None:
    """Rows of ``old.table`` that ``new.table`` lacks (by ``key``), copied into it: the
    columns both have (a column only the old one has is added to the new one first)."""
    old_columns = _column_types(cursor, old, table)
    if not old_columns:
        return
    new_columns = _column_types(cursor, new, table)
    if not new_columns:
        cursor.execute(
            sql.SQL("alter table {} set schema {}").format(
                sql.Identifier(old, table), sql.Identifier(new)
            )
        )
        return
    for column, kind in old_columns.items():
        if column not in new_columns:
            cursor.execute(
                sql.SQL("alter table {} add column {} {}").format(
                    sql.Identifier(new, table), sql.Identifier(column), sql.SQL(kind)
                )
            )
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in old_columns)
    cursor.execute(
        sql.SQL(
            "insert into {new} ({columns}) select {columns} from {old} as kept"
            " where not exists (select 1 from {new} as fresh where fresh.{key} = kept.{key})"
        ).format(
            new=sql.Identifier(new, table),
            old=sql.Identifier(old, table),
            columns=columns,
            key=sql.Identifier(key),
        )
    )
    log.info("full refresh: %d row(s) of %s.%s carried over", cursor.rowcount, new, table)


def refresh_source(
    spec: SourceSpec,
    context: IngestContext,
    run_source: RunSource,
    observer: IngestObserver | None = None,
) -> SourceRun:
    """Reload ``spec`` from scratch into its shadow dataset; swap it in only if every unit
    loaded. Otherwise the raw dataset is kept as it was and the run says so per unit."""
    settings = context.settings
    discard_refresh(spec.name, spec.dataset, settings)  # leftovers of an interrupted refresh
    try:
        run = run_source(
            replace(spec, dataset=shadow_dataset(spec.dataset)), context, observer=observer
        )
    except BaseException:
        discard_refresh(spec.name, spec.dataset, settings)
        raise
    if run.status == "ok":
        swap_in_refresh(spec.name, spec.dataset, settings, spec.kept_tables)
        return run
    discard_refresh(spec.name, spec.dataset, settings)
    kept = f"full refresh abandoned, {spec.dataset} kept as it was"
    for unit in run.units:
        if unit.status == "ok":
            unit.status = "discarded"
            unit.error = f"reloaded, then discarded: another table failed ({kept})"
            unit.rows_loaded = unit.rows_rejected = unit.rows_deleted = 0
        else:
            unit.error = f"{unit.error} ({kept})"
    log.warning("full refresh of %s failed: %s kept as it was", spec.name, spec.dataset)
    return run
