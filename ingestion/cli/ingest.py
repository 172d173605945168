"""`shopflow ingest [storefront|ops|files|all ...] [--full-refresh] [--destination lake]`:
land raw data with dlt in the warehouse, or export the warehouse's raw layer to the lake."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from enum import StrEnum

import psycopg2
import typer

from ingestion.cli.console import DataTable, console, fail, styled
from ingestion.cli.locking import WAIT, exclusive_run
from ingestion.cli.progress import ingest_progress
from ingestion.cli.project_settings import project_settings
from ingestion.cli.ready import ready_settings
from ingestion.cli.run_id import RUN_ID, run_id_or_new
from ingestion.database.errors import DatabaseError
from ingestion.interrupts import RunInterrupted
from ingestion.lake import LakeExport, MissingRawTableError, export_lake
from ingestion.loading.accounting import UnitResult
from ingestion.loading.registry import SOURCES
from ingestion.loading.runner import IngestReport
from ingestion.root_cause import root_cause
from ingestion.settings import ConnectionSettings, Settings
from ingestion.stage_runner.ingest_stage import run_ingestion
from ingestion.stage_runner.pipeline import history_stage
from ingestion.stage_runner.run_record import INGEST, StageRecorder
from ingestion.stage_runner.stages import Stage, StageResult

log = logging.getLogger(__name__)

WAREHOUSE_GONE = (DatabaseError, psycopg2.OperationalError, psycopg2.InterfaceError)
"""What a warehouse that stops answering mid-run raises outside a load unit."""


class Destination(StrEnum):
    """Where `shopflow ingest` writes."""

    WAREHOUSE = "warehouse"
    LAKE = "lake"


def summary_table(units: list[UnitResult], title: str) -> DataTable:
    """The closing table: per raw table rows loaded, rejected, deleted, quarantined, seconds."""
    table = DataTable(title=title)
    for name, justify in (
        ("source", "left"),
        ("table", "left"),
        ("status", "left"),
        ("rows loaded", "right"),
        ("rejected", "right"),
        ("deleted", "right"),
        ("files quarantined", "right"),
        ("seconds", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for unit in units:
        style = "green" if unit.status == "ok" else "bold red"
        table.add_row(
            unit.source,
            unit.table,
            styled(unit.status, style),
            f"{unit.rows_loaded:,}",
            f"{unit.rows_rejected:,}",
            f"{unit.rows_deleted:,}",
            f"{unit.files_quarantined:,}",
            f"{unit.seconds:.1f}",
        )
    return table


def lake_table(export: LakeExport) -> DataTable:
    """The closing table of a lake export: per raw table rows, files, partitioning, seconds."""
    table = DataTable(title=f"shopflow ingest --destination lake (run {export.run_id})")
    for name, justify in (
        ("table", "left"),
        ("rows", "right"),
        ("files", "right"),
        ("partitioned by", "left"),
        ("seconds", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for exported in export.tables:
        entry = exported.entry
        table.add_row(
            exported.table.qualified_name,
            f"{entry.row_count:,}",
            f"{len(entry.files):,}",
            ", ".join(entry.partition_columns) or "-",
            f"{exported.seconds:.1f}",
        )
    return table


def ingest(
    sources: list[str] | None = typer.Argument(
        None, help=f"Sources to load: {', '.join(SOURCES)} or all (the default)."
    ),
    full_refresh: bool = typer.Option(
        False,
        "--full-refresh",
        help="Reload the source from scratch; the raw tables are replaced only if it succeeds.",
    ),
    destination: Destination = typer.Option(
        Destination.WAREHOUSE,
        "--destination",
        help="warehouse: load with dlt; lake: export the warehouse's raw tables to the "
        "Parquet lake at SHOPFLOW_LAKE_URL (docs/scale-out.md).",
    ),
    wait: float = WAIT,
    given_run_id: str | None = RUN_ID,
) -> None:
    """Load raw data into the warehouse with dlt (only what changed since the last run), or
    export the warehouse's raw tables to the Parquet lake (--destination lake)."""
    chosen = sources or ["all"]
    unknown = [name for name in chosen if name != "all" and name not in SOURCES]
    if unknown:
        fail(f"unknown source {unknown[0]!r}: choose from {', '.join(SOURCES)} or all")
    names = list(SOURCES) if "all" in chosen else list(dict.fromkeys(chosen))
    label = " ".join(chosen)
    run_id = run_id_or_new(given_run_id)
    config = project_settings()
    if destination is Destination.LAKE:
        _export_to_lake(names, label, full_refresh, wait, run_id, config)
        return
    settings = ready_settings()
    with exclusive_run(settings, f"ingest {label}", wait):
        report = _recorded_ingestion(
            settings,
            run_id,
            lambda: _ingest_with_progress(settings, config, names, full_refresh, run_id),
        )
    console.print(summary_table(report.units, f"shopflow ingest (run {report.run_id})"))
    if not report.ok:
        # tables a failed full refresh reloaded and then discarded are not the cause
        failed = [u for u in report.units if u.status == "failed"]
        discarded = len([u for u in report.units if u.status == "discarded"])
        also = f" ({discarded} more reloaded, then discarded with them)" if discarded else ""
        first = failed[0] if failed else next(u for u in report.units if u.status != "ok")
        fail(
            f"{len(failed)} table(s) failed to load{also}; first: {first.source}."
            f"{first.table}: {first.error}"
        )


def _export_to_lake(
    names: list[str], label: str, full_refresh: bool, wait: float, run_id: str, config: Settings
) -> None:
    """Export the sources' raw tables to the lake under the warehouse's run lock, after the
    history stage on Postgres (the product snapshot, and the erasure hook of the customers'
    change log): an export between a load and the next dbt build would otherwise carry that
    load's erased customers' personal data, and a product history behind the raw tables."""
    if full_refresh:
        fail(
            "--full-refresh reloads the warehouse; a lake export always rewrites its tables "
            "whole: leave --full-refresh out (or drop --destination lake)."
        )
    settings = ready_settings()
    url = config.lake_url
    with exclusive_run(settings, f"ingest --destination lake {label}", wait):
        history = history_stage(settings, config)
        try:
            with console.status(f"{history.name}: {history.description}"):
                recorded = history.action()
        except Exception as exc:  # dbt said why in its log; the lake is not touched
            log.debug("the history stage before the lake export failed", exc_info=True)
            fail(
                f"Recording the history and applying erasures on Postgres failed "
                f"({root_cause(exc).rstrip('.')}), so nothing was exported and the lake is left "
                "as it was: fix the cause (`shopflow status`, dbt's log) and run the command again."
            )
        log.info("history before the lake export: %s", recorded)
        try:
            with console.status(f"exporting {', '.join(names)} to {url}"):
                export = export_lake(settings, url, names, run_id=run_id)
        except MissingRawTableError as exc:
            fail(str(exc))
        except Exception as exc:  # any cause: one sentence here, the traceback in the log
            log.debug("lake export failed", exc_info=True)
            fail(
                f"The lake export to {url} failed ({root_cause(exc).rstrip('.')}); the lake is "
                "left as it was: fix the cause and run the command again."
            )
    console.print(lake_table(export))
    console.print(f"manifest: {export.manifest_path}")


def _recorded_ingestion(
    settings: ConnectionSettings, run_id: str, ingestion: Callable[[], IngestReport]
) -> IngestReport:
    """Run ``ingestion``, its stage row ``running`` while it works (what the next command
    finds if this one is killed) and ``interrupted`` if a signal stops it (then leave with
    128 + the signal); the sources record their own rows."""
    recorder = StageRecorder(settings, run_id, "ingest")
    recorder.started(Stage(INGEST, "dlt: load the sources", lambda: ""))
    started_at = dt.datetime.now(dt.UTC)
    try:
        report = ingestion()
    except RunInterrupted as exc:
        finished_at = dt.datetime.now(dt.UTC)
        seconds = (finished_at - started_at).total_seconds()
        detail = f"{exc} during the stage"
        recorder(StageResult(INGEST, "interrupted", seconds, detail, started_at, finished_at))
        fail(
            f"shopflow ingest (run {run_id}) was stopped: {detail}; tables loaded before it are "
            "kept, `shopflow ingest` completes the rest.",
            code=exc.exit_code,
        )
    except SystemExit:  # the warehouse went away: a failure, said where it can be kept
        finished_at = dt.datetime.now(dt.UTC)
        seconds = (finished_at - started_at).total_seconds()
        gone = "the warehouse stopped answering during ingestion"
        recorder(StageResult(INGEST, "failed", seconds, gone, started_at, finished_at))
        raise
    status = "ok" if report.ok else "failed"
    recorder(StageResult(INGEST, status, 0.0, "", started_at, dt.datetime.now(dt.UTC)))
    return report


def _ingest_with_progress(
    settings: ConnectionSettings,
    config: Settings,
    names: list[str],
    full_refresh: bool,
    run_id: str,
) -> IngestReport:
    """Run the ingestion with a progress line per table. If the warehouse stops answering,
    show what finished before and leave with a plain message."""
    with ingest_progress() as observer:
        try:
            return run_ingestion(
                settings,
                names,
                full_refresh=full_refresh,
                observer=observer,
                run_id=run_id,
                config=config,
            )
        except WAREHOUSE_GONE as exc:
            log.debug("ingestion interrupted", exc_info=True)
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    console.print(summary_table(observer.results, "shopflow ingest (interrupted)"))
    loaded = sum(1 for unit in observer.results if unit.status == "ok")
    fail(
        f"The warehouse stopped answering during ingestion ({problem.rstrip('.')}), with "
        f"{loaded} table(s) loaded; run `shopflow ingest` again once it is back: unfinished "
        "loads are completed then."
    )
