"""`shopflow run`: the whole pipeline with a closing summary table."""

from __future__ import annotations

import time

import typer
from rich.table import Table

from ingestion.cli.console import console, fail
from ingestion.cli.locking import WAIT, exclusive_run
from ingestion.cli.simulate import MAX_SCALE, MIN_SCALE
from ingestion.database import service
from ingestion.database.errors import DatabaseError
from ingestion.orchestration.pipeline import RunOptions, pipeline_stages
from ingestion.orchestration.stages import Stage, StageResult, run_stages
from ingestion.quality.alerts import alert_failed_run

STATUS_STYLE = {"ok": "green", "failed": "bold red", "skipped": "yellow"}


def summary_table(results: list[StageResult]) -> Table:
    table = Table(title="shopflow run")
    table.add_column("stage")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("detail", overflow="fold")
    for result in results:
        style = STATUS_STYLE[result.status]
        table.add_row(
            result.name, f"[{style}]{result.status}[/]", f"{result.seconds:.1f}", result.detail
        )
    return table


def run(
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models."),
    seed: int = typer.Option(42, "--seed", help="Seed of a world built by this run."),
    scale: float = typer.Option(
        1.0,
        "--scale",
        min=MIN_SCALE,
        max=MAX_SCALE,
        help="Size of a world built now, from 0.001 to 1000.",
    ),
    tick: int = typer.Option(0, "--tick", min=0, help="Advance an existing world N days first."),
    wait: float = WAIT,
) -> None:
    """Run the whole pipeline: simulate -> ingest -> dbt build -> docs."""
    try:
        settings = service.ensure_ready().settings
    except DatabaseError as exc:
        fail(str(exc))
    options = RunOptions(full_refresh=full_refresh, seed=seed, scale=scale, tick_days=tick)
    stages = pipeline_stages(settings, options)

    def announce(stage: Stage) -> None:
        console.rule(f"[bold]{stage.name}[/]: {stage.description}")

    started = time.time()
    with exclusive_run(settings, "run", wait):
        results = run_stages(stages, on_start=announce)
    console.print(summary_table(results))
    failed = [r for r in results if r.status == "failed"]
    if failed:
        alert_failed_run(results, since=started)  # posts to $SHOPFLOW_ALERT_WEBHOOK if set
        fail(f"stage '{failed[0].name}' failed: {failed[0].detail}")
