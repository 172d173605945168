"""`shopflow ingest [storefront|ops|files|all] [--full-refresh]`: land raw data with dlt."""

from __future__ import annotations

import logging

import psycopg2
import typer
from rich.table import Table

from ingestion.cli.console import console, fail
from ingestion.cli.locking import WAIT, exclusive_run
from ingestion.cli.progress import ingest_progress
from ingestion.cli.ready import ready_settings
from ingestion.database.errors import DatabaseError
from ingestion.loading.accounting import UnitResult
from ingestion.loading.registry import SOURCES
from ingestion.loading.runner import IngestReport
from ingestion.orchestration.ingest_stage import run_ingestion
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

WAREHOUSE_GONE = (DatabaseError, psycopg2.OperationalError, psycopg2.InterfaceError)
"""What a warehouse that stops answering mid-run raises outside a load unit."""


def summary_table(units: list[UnitResult], title: str) -> Table:
    """The closing table: per raw table rows loaded, rejected, deleted, quarantined, seconds."""
    table = Table(title=title)
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
            f"[{style}]{unit.status}[/]",
            f"{unit.rows_loaded:,}",
            f"{unit.rows_rejected:,}",
            f"{unit.rows_deleted:,}",
            f"{unit.files_quarantined:,}",
            f"{unit.seconds:.1f}",
        )
    return table


def ingest(
    source: str = typer.Argument("all", help=f"Which source to load: {', '.join(SOURCES)} or all."),
    full_refresh: bool = typer.Option(
        False,
        "--full-refresh",
        help="Reload the source from scratch; the raw tables are replaced only if it succeeds.",
    ),
    wait: float = WAIT,
) -> None:
    """Load raw data into the warehouse with dlt (only what changed since the last run)."""
    if source != "all" and source not in SOURCES:
        fail(f"unknown source {source!r}: choose one of {', '.join(SOURCES)} or all")
    settings = ready_settings()
    names = list(SOURCES) if source == "all" else [source]
    with exclusive_run(settings, f"ingest {source}", wait):
        report = _ingest_with_progress(settings, names, full_refresh)
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


def _ingest_with_progress(
    settings: ConnectionSettings, names: list[str], full_refresh: bool
) -> IngestReport:
    """Run the ingestion with a progress line per table. If the warehouse stops answering,
    show what finished before and leave with a plain message."""
    with ingest_progress() as observer:
        try:
            return run_ingestion(settings, names, full_refresh=full_refresh, observer=observer)
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
