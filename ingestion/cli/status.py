"""`shopflow status`: the last runs, source freshness, the last production build's tests,
the quality metrics and the clickstream; exits 1 when something is red, so cron or an
orchestrator can gate on it (`--json` for machines)."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.text import Text

from ingestion.cli.console import DataTable, console, err_console, fail, styled
from ingestion.cli.project_settings import project_settings
from ingestion.cli.run_id import parse_run_id
from ingestion.database.errors import DatabaseError, WarehouseNotBuiltError
from ingestion.database.server_settings import connection_settings
from ingestion.monitoring.capture_lag import (
    CDC,
    RECORD,
    CaptureStatus,
    human_age,
    human_bytes,
)
from ingestion.monitoring.status import (
    GREEN,
    QUALITY_VIEW,
    RED,
    YELLOW,
    WarehouseStatus,
    read_status,
    verdict,
)
from ingestion.settings import ConnectionSettings
from ingestion.streaming.health import StreamHealth, read_health

STATUS_STYLES = {
    "pass": "green",
    "ok": "green",
    "warn": "yellow",
    "skipped": "yellow",
    "fail": "red",
    "error": "red",
    "failed": "red",
    "interrupted": "red",
    "running": "cyan",
    "runtime error": "red",
}
RED_EXIT_CODE = 1
VERDICT_STYLES = {GREEN: "bold green", YELLOW: "bold yellow", RED: "bold red"}


PIPED_STATUS_WIDTH = 100
"""Columns of `shopflow status` when piped (the console's own piped width never cuts a table,
which made lines of 669 characters)."""


def _styled(status: str) -> Text:
    return styled(status, STATUS_STYLES.get(status))


def _runs_table(status: WarehouseStatus) -> DataTable:
    table = DataTable(title="Last runs (audit.pipeline_runs)")
    for column in ("run", "command", "stage", "source", "started (UTC)", "seconds", "status"):
        table.add_column(column, no_wrap=column == "run")
    table.add_column("rows loaded", justify="right")
    table.add_column("rejected", justify="right")
    # the whole error, wrapped on a terminal and on one line in a file: never cut
    table.add_column("error or detail", overflow="fold")
    for run in status.runs:
        table.add_row(
            run.run_id,
            run.command,
            run.stage,
            run.source,
            f"{run.started_at:%Y-%m-%d %H:%M:%S}",
            "-" if run.seconds is None else f"{run.seconds:.1f}",
            _styled(run.status),
            f"{run.rows_loaded:,}" if run.stage == "ingest" else "",
            f"{run.rows_rejected:,}" if run.stage == "ingest" else "",
            run.error or run.detail or "",
        )
    if not status.runs:
        table.add_row("no run recorded yet", *[""] * 9)
    return table


def _freshness_table(status: WarehouseStatus) -> DataTable:
    table = DataTable(title="Source freshness (dbt source freshness of the last run, aged to now)")
    for column in ("source", "table", "newest load (UTC)", "age (hours)", "criteria", "status"):
        table.add_column(column, justify="right" if column == "age (hours)" else "left")
    for item in status.freshness:
        table.add_row(
            item.source,
            item.table,
            f"{item.max_loaded_at:%Y-%m-%d %H:%M}" if item.max_loaded_at else "-",
            "-" if item.age_hours is None else f"{item.age_hours:.1f}",
            item.criteria,
            _styled(item.status),
        )
    if not status.freshness:
        table.add_row("not measured yet: `shopflow run` measures it", *[""] * 5)
    return table


def _capture_table(capture: CaptureStatus) -> DataTable:
    table = DataTable(title=f"Operations capture ({RECORD} and the server's slot)")
    for column in ("mode", "slot", "wal status", "log held", "oldest unread change", "resyncs"):
        table.add_column(column, justify="right" if column == "resyncs" else "left")
    table.add_column("status")
    if capture.mode != CDC:
        table.add_row(f"{capture.mode} (polls updated_at)", *["-"] * 6)
        return table
    status = _styled("error" if capture.problem() else "pass")
    lag = capture.lag
    if lag is None:
        table.add_row(CDC, capture.slot, "gone", "-", "-", str(capture.resyncs), status)
        return table
    age = lag.oldest_unread_age
    if age is not None:
        unread = f"{human_age(age)} old"
    elif lag.peeked:
        unread = "nothing unread"
    else:
        unread = "unknown (an ingest is reading it)"
    table.add_row(
        CDC,
        capture.slot,
        lag.health.wal_status or "-",
        "-" if lag.lag_bytes is None else human_bytes(lag.lag_bytes),
        unread,
        str(capture.resyncs),
        status,
    )
    return table


def _stream_health(nats_url: str, settings: ConnectionSettings) -> StreamHealth | None:
    """The clickstream's health; None (and a warning) when the warehouse stopped answering
    since the status was read: the rest of the status is still worth showing."""
    try:
        return read_health(nats_url, settings)
    except DatabaseError as exc:
        err_console.print(f"warning: the clickstream's health is unknown: {exc}", markup=False)
        return None


def _stream_table(stream: StreamHealth) -> DataTable:
    table = DataTable(title="Clickstream (NATS JetStream consumer and realtime windows)")
    for column in ("broker", "lag (messages)", "last closed window (UTC)", "events/s", "status"):
        table.add_column(column)
    closed = stream.last_closed_window_at
    table.add_row(
        "reachable" if stream.broker_reachable else "unreachable",
        "-" if stream.lag is None else f"{stream.lag:,}",
        "-" if closed is None else f"{closed:%Y-%m-%d %H:%M}",
        f"{stream.rate:,.1f}",
        _styled("error" if stream.problem() else "warn" if stream.warning() else "pass"),
    )
    return table


def _tests_table(status: WarehouseStatus) -> DataTable:
    counts = status.test_counts()
    summary = ", ".join(f"{name}={count}" for name, count in sorted(counts.items())) or "none"
    invocations = ", ".join(status.production_invocations) or "none recorded yet"
    table = DataTable(
        title=f"Tests of the last production build ({summary}; dbt invocation {invocations})"
    )
    table.add_column("test")
    table.add_column("type")
    table.add_column("status")
    table.add_column("failures", justify="right")
    table.add_column("message", overflow="fold")
    for test in status.problem_tests:
        failures = "-" if test.failures is None else str(test.failures)
        message = " ".join((test.message or "").split())
        table.add_row(test.name, test.test_type, _styled(test.status), failures, message)
    if not status.problem_tests:
        table.add_row("every test passed", "", _styled("pass"), "", "")
    return table


def _quality_table(status: WarehouseStatus) -> DataTable:
    table = DataTable(title="Data quality per source and table (all loads)")
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
    if not status.tables:
        table.add_row(f"{QUALITY_VIEW} is missing: the next good build recreates it", *[""] * 7)
    return table


def status(
    runs: int = typer.Option(3, "--runs", min=1, help="How many recent runs to show."),
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    run_id: str | None = typer.Option(
        None,
        "--run-id",
        parser=parse_run_id,
        help="Judge this run (e.g. the scheduled run a gate task belongs to) instead of the "
        "most recent one; red when it has no stage recorded.",
    ),
) -> None:
    """The verdict first (green, yellow, red: its cause and the next command), then the last
    runs, source freshness, the last production build's tests and the quality metrics, the
    operations database's replication slot and the clickstream. Exits 1 when a run failed, a
    test fails, a source is stale, the slot is gone or too far behind, or the stream's consumer
    is too far behind; yellow (rows rejected, files quarantined) exits 0."""
    try:
        current_settings = connection_settings()
        current = read_status(current_settings, last_runs=runs, run_id=run_id)
    except (WarehouseNotBuiltError, DatabaseError) as exc:
        if as_json:  # machines read stdout: the failure is JSON there too
            failure = {"healthy": False, "verdict": RED, "problems": [str(exc)], "error": str(exc)}
            print(json.dumps(failure, indent=2))
        fail(str(exc))
    stream = _stream_health(project_settings().nats_url, current_settings)
    stream_problem = stream.problem() if stream is not None else None
    problems = current.problems() + ([stream_problem] if stream_problem else [])
    next_step = current.next_step() or ("`shopflow stream status`" if stream_problem else "")
    level, headline = verdict(problems, current.attention(), next_step)
    if as_json:
        document = json.loads(current.as_json())
        document.update(
            healthy=not problems,
            verdict=level,
            problems=problems,
            next=next_step,
            stream=stream and stream.as_dict(),
        )
        print(json.dumps(document, indent=2, default=str))
    else:

        def show(item: DataTable | Text | str, **options: Any) -> None:
            """On a terminal as rich draws it; piped (a cron mail, a chat message) every line
            fits PIPED_STATUS_WIDTH: tables as one wrapped entry per row, nothing cut."""
            if console.is_terminal:
                console.print(item, **options)
            elif isinstance(item, DataTable):
                console.print("\n".join(item.as_lines(PIPED_STATUS_WIDTH)), markup=False)
            else:
                console.print(item, width=PIPED_STATUS_WIDTH, **options)

        show(Text(headline, style=VERDICT_STYLES[level]))
        show(_runs_table(current))
        show(_freshness_table(current))
        if current.capture is not None:
            show(_capture_table(current.capture))
        if stream is not None and (stream.has_windows or stream.broker_reachable):
            show(_stream_table(stream))
            if (warning := stream.warning()) is not None:
                show(f"[yellow]warning:[/] {warning}", highlight=False)
        show(_tests_table(current))
        show(_quality_table(current))
        if problems:
            show(Text.assemble(("RED:", "bold red"), " ", "; ".join(problems)))
        else:
            show("[green]healthy:[/] the last run passed, every test passes, every source is fresh")
    if problems:
        raise typer.Exit(RED_EXIT_CODE)
