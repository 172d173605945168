"""`shopflow ingest --destination lake`: export the warehouse's raw layer to the Parquet lake.

The lake is the raw layer as landed and validated in the warehouse, so Postgres and Spark
build the same dbt project from identical inputs (the customers' change log among them),
plus the history Postgres recorded: the snapshot of products goes with ``storefront`` (a
snapshot not built yet is refused, with what to run). Every export rewrites the tables of the
sources it names, whole (the simplest design that stays correct: most raw tables are dlt
``merge`` tables whose rows change in place, so appending would duplicate a changed row).
All tables are read in one repeatable-read transaction, so they agree with each other; they
are staged, swapped in, then the manifest is written. One row per source goes to
``audit.pipeline_runs`` (stage ``lake``) under the export's run id.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ingestion.database.connection import connect
from ingestion.lake.filesystem import Lake, open_lake
from ingestion.lake.layout import LakeTable, lake_schemas, lake_tables
from ingestion.lake.manifest import TableEntry, columns_of, read_manifest, write_manifest
from ingestion.lake.warehouse import load_ids, read_raw_table
from ingestion.lake.writer import StagedTable, remove_leftovers, stage_table, swap_in
from ingestion.loading.audit import PipelineRun, record_run
from ingestion.root_cause import root_cause
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

STAGE = "lake"
"""The stage name of a lake export in ``audit.pipeline_runs``."""


@dataclass(frozen=True)
class ExportedTable:
    """One table as this export wrote it."""

    table: LakeTable
    entry: TableEntry
    seconds: float


@dataclass
class LakeExport:
    """What one export wrote, for the summary and the audit."""

    run_id: str
    url: str
    sources: list[str]
    started_at: dt.datetime
    tables: list[ExportedTable] = field(default_factory=list)
    manifest_path: str = ""


def export_lake(
    settings: ConnectionSettings, url: str, sources: Sequence[str], *, run_id: str
) -> LakeExport:
    """Export the raw tables of ``sources`` to the lake at ``url`` and record the run under
    ``run_id`` (the command's, which also names the export's staged files).

    Raises what went wrong (after recording it); the lake is then left as it was."""
    tables = lake_tables(sources)
    export = LakeExport(run_id, url, list(sources), dt.datetime.now(dt.UTC))
    try:
        _export(settings, open_lake(url), tables, export)
    except Exception as exc:
        log.debug("lake export %s failed", export.run_id, exc_info=True)
        _record(settings, export, error=root_cause(exc))
        raise
    _record(settings, export, error=None)
    return export


def _export(
    settings: ConnectionSettings, lake: Lake, tables: list[LakeTable], export: LakeExport
) -> None:
    export_id = export.run_id
    remove_leftovers(lake, lake_schemas())
    manifest = read_manifest(lake)
    staged: list[tuple[StagedTable, list[str], float]] = []
    connection = connect(settings, settings.database)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        for table in tables:
            started = time.perf_counter()
            reader = read_raw_table(connection, table)
            written = stage_table(lake, table, reader.schema, reader.batches, export_id)
            with connection.cursor() as cursor:
                covered = load_ids(cursor, table)
            staged.append((written, covered, time.perf_counter() - started))
        connection.rollback()  # read only: nothing to commit
    finally:
        connection.close()
    exported_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    set_aside = [swap_in(lake, written, export_id) for written, _, _ in staged]
    for written, covered, seconds in staged:
        entry = TableEntry(
            path=written.table.path,
            partition_columns=list(written.table.partition_columns),
            row_count=written.rows,
            columns=columns_of(written.schema),
            load_ids=covered,
            files=list(written.files),
            export_id=export_id,
            exported_at=exported_at,
        )
        manifest.tables[written.table.qualified_name] = entry
        export.tables.append(ExportedTable(written.table, entry, seconds))
    manifest.export_id = export_id
    manifest.written_at = exported_at
    manifest.warehouse = settings.database
    export.manifest_path = write_manifest(lake, manifest)
    for aside in set_aside:
        if aside is not None:
            lake.filesystem.rm(aside, recursive=True)


def _record(settings: ConnectionSettings, export: LakeExport, error: str | None) -> None:
    """One ``audit.pipeline_runs`` row per source: rows written, or the error."""
    finished_at = dt.datetime.now(dt.UTC)
    for source in export.sources:
        rows = sum(t.entry.row_count for t in export.tables if t.table.source == source)
        record_run(
            settings,
            PipelineRun(
                run_id=export.run_id,
                stage=STAGE,
                source=source,
                started_at=export.started_at,
                finished_at=finished_at,
                status="failed" if error else "ok",
                rows_loaded=rows,
                rows_rejected=0,
                files_quarantined=0,
                error=error,
                command="ingest",
                detail=None if error else f"{rows:,} rows -> {export.url}",
            ),
        )
