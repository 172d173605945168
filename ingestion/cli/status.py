"""`shopflow status`: quality metrics per source and table, last build's tests, last runs."""

from __future__ import annotations

import typer
from rich.table import Table

from ingestion.cli.console import console, fail
from ingestion.database.errors import DatabaseError
from ingestion.quality.status import WarehouseNotBuiltError, WarehouseStatus, read_status
from ingestion.settings import connection_settings

STATUS_STYLES = {"pass": "green", "ok": "green", "warn": "yellow", "fail": "red", "error": "red"}


def _styled(status: str) -> str:
    style = STATUS_STYLES.get(status)
    return f"[{style}]{status}[/]" if style else status


def _quality_table(status: WarehouseStatus) -> Table:
    table = Table(title="Data quality per source and table (all loads)")
    for column in ("source", "table", "loads", "last load (UTC)"):
        table.add_column(column)
    for column in ("rows loaded", "rejected", "quarantined files", "invalid in staging"):
        table.add_column(column, justify="right")
    for row in status.tables:
        table.add_row(
            row.source,
            row.table,
            str(row.loads),
            f"{row.last_loaded_at:%Y-%m-%d %H:%M}" if row.last_loaded_at else "-",
            f"{row.rows_loaded:,}",
            f"{row.rows_rejected:,}",
            f"{row.files_quarantined:,}",
            f"{row.rows_invalid:,}",
        )
    return table


def _tests_table(status: WarehouseStatus) -> Table:
    counts = status.test_counts()
    summary = ", ".join(f"{name}={count}" for name, count in sorted(counts.items())) or "none"
    table = Table(title=f"Tests of the last dbt build: {summary}")
    table.add_column("test")
    table.add_column("type")
    table.add_column("status")
    table.add_column("failures", justify="right")
    for test in status.problem_tests:
        failures = "-" if test.failures is None else str(test.failures)
        table.add_row(test.name, test.test_type, _styled(test.status), failures)
    if not status.problem_tests:
        table.add_row("every test passed", "", _styled("pass"), "")
    return table


def _runs_table(status: WarehouseStatus) -> Table:
    table = Table(title="Last pipeline runs (audit.pipeline_runs)")
    for column in ("run", "stage", "source", "started (UTC)", "seconds", "status"):
        table.add_column(column)
    table.add_column("rows loaded", justify="right")
    table.add_column("rejected", justify="right")
    table.add_column("error")
    for run in status.runs:
        seconds = (
            f"{(run.finished_at - run.started_at).total_seconds():.1f}" if run.finished_at else "-"
        )
        table.add_row(
            run.run_id[:8],
            run.stage,
            run.source or "",
            f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            seconds,
            _styled(run.status),
            "" if run.rows_loaded is None else f"{run.rows_loaded:,}",
            "" if run.rows_rejected is None else f"{run.rows_rejected:,}",
            (run.error or "")[:60],
        )
    if not status.runs:
        table.add_row("no run recorded yet", "", "", "", "", "", "", "", "")
    return table


def status(
    runs: int = typer.Option(3, "--runs", min=1, help="How many recent pipeline runs to show."),
) -> None:
    """Show data-quality metrics, the last build's test outcomes and the last pipeline runs."""
    try:
        current = read_status(connection_settings(), last_runs=runs)
    except (WarehouseNotBuiltError, DatabaseError) as exc:
        fail(str(exc))
    console.print(_quality_table(current))
    console.print(_tests_table(current))
    console.print(_runs_table(current))
