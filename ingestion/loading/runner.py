"""`shopflow ingest`: run the sources' pipelines, unit by unit, and record what happened.

Each source gets one dlt pipeline (``shopflow_<source>``) loading into ``raw_<source>``.
A source runs as a sequence of load units (see ``registry``); a failing unit is reported and
the others still run, also when it leaves a load package dlt cannot load: that package waits
aside and is given up after a bounded number of runs (see ``pending_packages``). Each source
run leaves one ``audit.pipeline_runs`` row.

A reader whose read can be repeated (the operations log, confirmed only after the load) lets
its units load *together*: one ``pipeline.run`` for every table with something to load, so
dlt's fixed cost per run (package, schema, state, connections) is paid once, not per table.
If that run fails, its package is dropped and the units run one by one as above, reading the
same again: a table that cannot load then fails alone, with its own package set aside, and
the counts, the audit row and the confirmation are those of the unit-by-unit run.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import dlt
from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.loading.accounting import UnitResult, fill_from_trace
from ingestion.loading.audit import PipelineRun, record_run
from ingestion.loading.pending_packages import (
    GivenUp,
    Settled,
    delete_package,
    handle_failure,
    pending_load_ids,
    restore_parked,
    settle_pending,
)
from ingestion.loading.refresh import refresh_source
from ingestion.loading.refused_rows import refused_row_count
from ingestion.loading.registry import (
    SOURCES,
    IngestContext,
    LoadUnit,
    SourceReader,
    SourceSpec,
)
from ingestion.loading.runtime import make_pipeline
from ingestion.loading.source_run import IngestObserver, SourceRun
from ingestion.root_cause import root_cause
from ingestion.settings import ConnectionSettings
from ingestion.sources.validation import BOOKKEEPING_DDL, REJECTED_RECORDS_TABLE

log = logging.getLogger(__name__)

STAGE = "ingest"


class PendingLoadError(RuntimeError):
    """A unit's table still has a failed load package waiting: the unit does not run."""


@dataclass
class IngestReport:
    """Everything one `shopflow ingest` did."""

    run_id: str
    sources: list[SourceRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every unit of every source loaded."""
        return all(s.status == "ok" for s in self.sources)

    @property
    def units(self) -> list[UnitResult]:
        """Every unit result, source by source."""
        return [u for s in self.sources for u in s.units]


def ensure_bookkeeping_tables(settings: ConnectionSettings, spec: SourceSpec) -> None:
    """Create the source's ``rejected_records`` (and other bookkeeping tables) if missing."""
    tables = (REJECTED_RECORDS_TABLE, *spec.extra_tables)
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(spec.dataset))
        )
        for table in tables:
            cursor.execute(
                sql.SQL("create table if not exists {}.{} ({})").format(
                    sql.Identifier(spec.dataset),
                    sql.Identifier(table),
                    sql.SQL(BOOKKEEPING_DDL[table]),
                )
            )


def run_source(
    spec: SourceSpec,
    context: IngestContext,
    observer: IngestObserver | None = None,
) -> SourceRun:
    """Load one source, unit by unit. Never raises for a failing unit: it is reported."""
    settings = context.settings
    run = SourceRun(spec.name, started_at=dt.datetime.now(dt.UTC))
    ensure_bookkeeping_tables(settings, spec)
    pipeline = make_pipeline(spec.name, spec.dataset, settings)
    restore_parked(pipeline)  # what an earlier run set aside for itself is tried again
    settled = settle_pending(pipeline, settings, spec.dataset, context.package_attempts)
    try:
        with spec.open_reader(context, pipeline) as reader:
            run.reader_note = reader.note
            together = run_together(spec, context, pipeline, reader, settled, observer)
            if together is not None:
                run.units += together
            else:
                for unit in spec.units:
                    run.units.append(
                        run_unit(spec, context, pipeline, reader, unit, settled, observer)
                    )
            if reader.loaded is not None:
                confirm(reader.loaded, spec.name, all(u.status == "ok" for u in run.units))
    except Exception as exc:  # the shared read failed: every unit not run fails with it
        log.debug("%s: reading the source failed", spec.name, exc_info=True)
        ran = {u.table for u in run.units}
        for unit in spec.units:
            if unit.table not in ran:
                run.units.append(
                    UnitResult(spec.name, unit.table, status="failed", error=root_cause(exc))
                )
    account_given_up(run, settled.given_up)
    run.finished_at = dt.datetime.now(dt.UTC)
    return run


def confirm(loaded: Callable[[bool], None], source: str, all_loaded: bool) -> None:
    """Tell the reader how the units went; its failure costs a repeat read, not the run."""
    try:
        loaded(all_loaded)
    except Exception as exc:
        log.warning(
            "%s: the position read up to was not confirmed (%s); the next run reads it again",
            source,
            root_cause(exc),
        )


def run_together(
    spec: SourceSpec,
    context: IngestContext,
    pipeline: dlt.Pipeline,
    reader: SourceReader,
    settled: Settled,
    observer: IngestObserver | None,
) -> list[UnitResult] | None:
    """Every unit in one ``pipeline.run`` (see module), counted per unit from its trace; None
    when the reader does not allow it or the run failed (the units are then run one by one).

    Units with nothing to load (``reader.idle``) are left out of the run, and a unit blocked
    by a pending package fails without running, as ``run_unit`` does.
    """
    if not reader.together:
        return None
    results = [UnitResult(spec.name, unit.table) for unit in spec.units]
    for unit in spec.units:
        if observer is not None:
            observer.unit_started(spec.name, unit)
    due = [u for u in spec.units if u.table not in settled.blocked and not reader.idle(u)]
    started = time.perf_counter()
    before = set(pending_load_ids(pipeline))
    try:
        # built even when no table has anything to load: building aligns raw's columns with
        # the source's (``drift``), which no change in the log announces
        source = reader.build()
        if due:
            source = source.with_resources(*(r for unit in due for r in unit.resources))
            # dlt annotates this parameter without Optional although its default is None
            info = pipeline.run(source, loader_file_format=spec.loader_file_format)  # type: ignore[arg-type]
            for result, unit in zip(results, spec.units, strict=True):
                if unit in due:
                    result.load_ids = tuple(info.loads_ids)
                    count_unit(result, context, spec, pipeline, unit)
    except Exception as exc:  # the units run again one by one, each failing on its own
        log.warning(
            "%s: loading the tables together failed (%s); loading them one by one",
            spec.name,
            root_cause(exc),
        )
        log.debug("%s: the run of every table failed", spec.name, exc_info=True)
        for load_id in set(pending_load_ids(pipeline)) - before:
            delete_package(pipeline, load_id)  # the reader reads the same again
        return None
    for result, unit in zip(results, spec.units, strict=True):
        if unit.table in settled.blocked:
            result.status, result.error = "failed", str(pending_error(unit, settled))
        elif unit in due:  # the shared run's time, shared out evenly
            result.seconds = (time.perf_counter() - started) / len(due)
        if observer is not None:
            observer.unit_finished(result)
    return results


def pending_error(unit: LoadUnit, settled: Settled) -> PendingLoadError:
    """Why a unit blocked by a pending package does not run."""
    return PendingLoadError(
        f"an earlier load of {unit.table} is still pending and failed again "
        f"({settled.blocked[unit.table]}); it is retried next run"
    )


def count_unit(
    result: UnitResult,
    context: IngestContext,
    spec: SourceSpec,
    pipeline: dlt.Pipeline,
    unit: LoadUnit,
) -> None:
    """Fill a unit's counts from the pipeline's last trace (its ``load_ids`` already set)."""
    fill_from_trace(result, pipeline, unit.resources)
    # rows handed over that the warehouse refused count as rejected, not loaded
    refused = refused_row_count(context.settings, spec.dataset, unit.table, result.load_ids)
    result.rows_loaded -= refused
    result.rows_rejected += refused


def run_unit(
    spec: SourceSpec,
    context: IngestContext,
    pipeline: dlt.Pipeline,
    reader: SourceReader,
    unit: LoadUnit,
    settled: Settled,
    observer: IngestObserver | None,
) -> UnitResult:
    """One load unit: its ``pipeline.run``, counted; a failure is reported, never raised."""
    settings = context.settings
    if observer is not None:
        observer.unit_started(spec.name, unit)
    result = UnitResult(spec.name, unit.table)
    started = time.perf_counter()
    try:
        if unit.table in settled.blocked:
            raise pending_error(unit, settled)
        source = reader.build().with_resources(*unit.resources)
        # dlt annotates this parameter without Optional although its default is None
        info = pipeline.run(source, loader_file_format=spec.loader_file_format)  # type: ignore[arg-type]
        result.load_ids = tuple(info.loads_ids)
        count_unit(result, context, spec, pipeline, unit)
    except Exception as exc:  # reported per unit; the other units still run
        log.debug("%s.%s failed", spec.name, unit.table, exc_info=True)
        result.status = "failed"
        result.error = root_cause(exc)
        if not isinstance(exc, PendingLoadError):
            settled.add(
                handle_failure(pipeline, settings, spec.dataset, context.package_attempts, exc)
            )
    result.seconds = time.perf_counter() - started
    if observer is not None:
        observer.unit_finished(result)
    return result


def account_given_up(run: SourceRun, given_up: list[GivenUp]) -> None:
    """Count the rows of given-up packages as rejected, in the unit of their table (else the
    source's first unit): read in an earlier run, accounted for now, so every unit balances."""
    for package in given_up:
        for table, rows in package.rows.items():
            unit = next((u for u in run.units if u.table == table), None)
            unit = unit or next((u for u in run.units if table.startswith(u.table)), None)
            unit = unit or (run.units[0] if run.units else None)
            if unit is not None:
                unit.records_in += rows
                unit.rows_rejected += rows


def ingest(
    sources: Sequence[str],
    context: IngestContext,
    full_refresh: bool = False,
    observer: IngestObserver | None = None,
    *,
    run_id: str,
    command: str = "ingest",
) -> IngestReport:
    """Run the named sources in order and record each in ``audit.pipeline_runs`` under
    ``run_id``: the id of the command (or scheduled run) this is part of, given by the CLI."""
    unknown = [name for name in sources if name not in SOURCES]
    if unknown:
        raise ValueError(f"unknown source(s): {', '.join(unknown)}; known: {', '.join(SOURCES)}")
    report = IngestReport(run_id)
    for name in sources:
        source_run = (
            refresh_source(SOURCES[name], context, run_source, observer)
            if full_refresh
            else run_source(SOURCES[name], context, observer=observer)
        )
        report.sources.append(source_run)
        record_run(
            context.settings,
            PipelineRun(
                run_id=report.run_id,
                stage=STAGE,
                source=name,
                started_at=source_run.started_at,
                finished_at=source_run.finished_at,
                status=source_run.status,
                rows_loaded=source_run.total("rows_loaded"),
                rows_rejected=source_run.total("rows_rejected"),
                files_quarantined=source_run.total("files_quarantined"),
                error=source_run.error,
                command=command,
                detail=source_run.cursor_notes,
            ),
        )
    return report
