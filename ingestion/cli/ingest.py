"""`shopflow ingest [storefront|ops|files|all] [--full-refresh]`: land raw data with dlt."""

from __future__ import annotations

import typer
from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from ingestion.cli.console import console, fail
from ingestion.database import service
from ingestion.database.errors import DatabaseError
from ingestion.loading.accounting import UnitResult
from ingestion.loading.registry import SOURCES, LoadUnit
from ingestion.loading.runner import IngestReport
from ingestion.orchestration.ingest_stage import run_ingestion


class ProgressObserver:
    """Shows one line per load unit: a spinner while it loads, its counts when done."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._tasks: dict[tuple[str, str], TaskID] = {}

    def unit_started(self, source: str, unit: LoadUnit) -> None:
        """Add a running line for the unit."""
        self._tasks[(source, unit.table)] = self._progress.add_task(
            f"{source} · {unit.table}: loading", total=None
        )

    def unit_finished(self, result: UnitResult) -> None:
        """Turn the unit's line into its outcome."""
        task = self._tasks[(result.source, result.table)]
        outcome = (
            f"[green]{result.rows_loaded:,} rows[/]"
            if result.status == "ok"
            else f"[bold red]failed[/]: {result.error}"
        )
        self._progress.update(
            task, description=f"{result.source} · {result.table}: {outcome}", total=1, completed=1
        )


def summary_table(report: IngestReport) -> Table:
    """The closing table: per raw table rows loaded, rejected, deleted, quarantined, seconds."""
    table = Table(title=f"shopflow ingest (run {report.run_id[:8]})")
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
    for unit in report.units:
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
        help="Drop the source's raw schema and dlt state first, then load everything again.",
    ),
) -> None:
    """Load raw data into the warehouse with dlt (only what changed since the last run)."""
    if source != "all" and source not in SOURCES:
        fail(f"unknown source {source!r}: choose one of {', '.join(SOURCES)} or all")
    try:
        settings = service.ensure_ready().settings
    except DatabaseError as exc:
        fail(str(exc))
    names = list(SOURCES) if source == "all" else [source]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        report = run_ingestion(
            settings, names, full_refresh=full_refresh, observer=ProgressObserver(progress)
        )
    console.print(summary_table(report))
    if not report.ok:
        failed = [u for u in report.units if u.status != "ok"]
        fail(
            f"{len(failed)} table(s) failed to load; first: {failed[0].source}."
            f"{failed[0].table}: {failed[0].error}"
        )
