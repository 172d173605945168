"""`shopflow run` (the whole pipeline, or part of it) and `shopflow retry` (resume the last
failed run), each with one run id, a closing summary table and a notification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import typer

from ingestion.cli.console import DataTable, console, fail, heading, styled
from ingestion.cli.locking import WAIT, exclusive_run
from ingestion.cli.progress import ingest_progress, working
from ingestion.cli.project_settings import project_settings
from ingestion.cli.ready import ready_settings
from ingestion.cli.run_id import RUN_ID, run_id_or_new
from ingestion.cli.simulate import parse_scale
from ingestion.interrupts import received_signal, signal_name
from ingestion.monitoring.alerts import notify_run_outcome
from ingestion.settings import (
    DEFAULT_TARGET,
    SPARK_TARGET,
    TARGETS,
    ConnectionSettings,
)
from ingestion.stage_runner.pipeline import (
    DBT_BUILD,
    MATERIALIZE,
    STAGE_NAMES,
    RunOptions,
    StageSelectionError,
    pipeline_stages,
    select_stages,
)
from ingestion.stage_runner.run_record import (
    StageRecorder,
    first_failed_stage,
    last_run,
    previous_run_failed,
    reconcile,
)
from ingestion.stage_runner.stages import Stage, StageOutcome, StageResult, run_stages

STATUS_STYLE = {
    "ok": "green",
    "failed": "bold red",
    "interrupted": "bold red",
    "skipped": "yellow",
}
STAGE_HELP = f"One of: {', '.join(STAGE_NAMES)}."


def summary_table(results: list[StageResult], run_id: str) -> DataTable:
    table = DataTable(title=f"shopflow run {run_id}")
    table.add_column("stage")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("detail", overflow="fold")
    for result in results:
        table.add_row(
            result.name,
            styled(result.status, STATUS_STYLE[result.status]),
            f"{result.seconds:.1f}",
            result.detail,
        )
    return table


SHOWS_ITS_OWN_PROGRESS = ("ingest", "dbt-build")
"""Stages that show progress themselves on a terminal (a line per table; dbt's log); the
others get a spinner while they work."""
SHOWS_ITS_OWN_PROGRESS_PIPED = ("ingest",)
"""Piped, the ingestion beats itself (``ingest_progress``); dbt's log can stay silent for
minutes on one long model, so dbt-build gets the heartbeat like the rest."""


def with_progress(stage: Stage) -> Stage:
    """The stage, showing that it works: a spinner when a person watches a terminal (unless
    it shows its own progress), a heartbeat line every 30 s when piped into a file."""
    own = SHOWS_ITS_OWN_PROGRESS if console.is_terminal else SHOWS_ITS_OWN_PROGRESS_PIPED
    if stage.name in own:
        return stage

    def action() -> StageOutcome | str:
        with working(stage.name, stage.description):
            return stage.action()

    return replace(stage, action=action)


def _execute(
    settings: ConnectionSettings,
    stages: Sequence[Stage],
    run_id: str,
    command: str,
    wait: float,
) -> None:
    """Run the stages under the lock, record each (as running when it starts), print the
    summary, notify, and leave non-zero if a stage failed (128 + the signal if one stopped
    the run)."""
    recorder = StageRecorder(settings, run_id, command)

    def announce(stage: Stage) -> None:
        heading(f"{stage.name}: {stage.description}")
        recorder.started(stage)

    with exclusive_run(settings, command, wait):
        results = run_stages(
            [with_progress(stage) for stage in stages], on_start=announce, on_finish=recorder
        )
        previous_failed = previous_run_failed(settings, run_id)
    console.print(summary_table(results, run_id))
    notify_run_outcome(run_id, results, previous_run_failed=previous_failed)
    signum = received_signal()
    if signum is not None:
        stopped = next((r for r in results if r.status == "interrupted"), None)
        where = f"during stage {stopped.name}" if stopped else "between two stages"
        fail(
            f"run {run_id} was stopped by {signal_name(signum)} {where}; "
            "`shopflow status` shows it, `shopflow retry` resumes from there.",
            code=128 + signum,
        )
    failed = next((result for result in results if result.status == "failed"), None)
    if failed is not None:
        fail(
            f"run {run_id} failed at stage {failed.name} (the reason is in the table above); "
            f"`shopflow status` shows it again, `shopflow retry` resumes from there."
        )


def run(
    full_refresh: bool = typer.Option(False, "--full-refresh", help="Rebuild incremental models."),
    seed: int = typer.Option(42, "--seed", help="Seed of a world built by this run."),
    scale: float = typer.Option(
        1.0,
        "--scale",
        parser=parse_scale,
        help="Size of a world built now, from 0.001 to 1000.",
    ),
    tick: int = typer.Option(0, "--tick", min=0, help="Advance an existing world N days first."),
    start: str | None = typer.Option(
        None, "--from", help=f"Start at this stage (skip the ones before). {STAGE_HELP}"
    ),
    only: str | None = typer.Option(None, "--only", help=f"Run this stage only. {STAGE_HELP}"),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="The dbt-build stage resumes the last production build's failed and skipped "
        "nodes (dbt retry) if it failed, else builds as usual (Airflow's task retries).",
    ),
    target: str | None = typer.Option(
        None,
        "--target",
        help="Engine dbt builds on: dev (Postgres) or spark (adds the lake stage; "
        "docs/scale-out.md). Default: SHOPFLOW_TARGET, else dev.",
    ),
    materialize: bool = typer.Option(
        False,
        "--materialize",
        help="After dbt-build, load the feature store's online store (Feast; needs `make "
        "feast`; docs/features.md).",
    ),
    wait: float = WAIT,
    given_run_id: str | None = RUN_ID,
) -> None:
    """Run the whole pipeline: simulate -> ingest -> dbt-build -> docs (or part of it)."""
    if start is not None and only is not None:
        fail("choose --from or --only, not both")
    if target is not None and target not in TARGETS:
        fail(f"--target {target!r} is not a target: use {' or '.join(TARGETS)}")
    config = project_settings()
    settings = ready_settings()
    run_id = run_id_or_new(given_run_id)
    options = RunOptions(
        run_id=run_id,
        full_refresh=full_refresh,
        seed=seed,
        scale=scale,
        tick_days=tick,
        ingest_progress=ingest_progress,
        retry_dbt=resume,
        target=target or config.target,
        materialize_features=materialize,
        config=config,
    )
    try:
        stages = select_stages(pipeline_stages(settings, options), start=start, only=only)
    except StageSelectionError as exc:
        fail(str(exc))
    _execute(settings, stages, run_id, "run", wait)


def retry(wait: float = WAIT, given_run_id: str | None = RUN_ID) -> None:
    """Resume the last failed or interrupted run from that stage: a failed dbt build runs
    again with only its failed and skipped nodes (`dbt retry`), then the stages after it."""
    settings = ready_settings()
    reconcile(settings)  # a run killed outright is found here, and resumed
    failed = first_failed_stage(last_run(settings))
    if failed is None:
        fail(
            "the last run did not fail and was not interrupted: there is nothing to retry "
            "(`shopflow status` shows it)"
        )
    run_id = run_id_or_new(given_run_id)
    config = project_settings()
    engine = config.target
    options = RunOptions(
        run_id=run_id,
        ingest_progress=ingest_progress,
        # `dbt retry` resumes the production (Postgres) build; a Spark build runs again whole
        retry_dbt=failed.stage == DBT_BUILD and engine == DEFAULT_TARGET,
        target=engine,
        # a run that failed loading the online store had asked for it
        materialize_features=failed.stage == MATERIALIZE,
        config=config,
    )
    try:
        stages = select_stages(pipeline_stages(settings, options), start=failed.stage)
    except StageSelectionError:
        fail(
            f"run {failed.run_id} ({failed.command}) failed at stage {failed.stage}, which "
            f"`shopflow run` on the {engine} target has not got: run that command again"
            + (" (or set SHOPFLOW_TARGET=spark for a Spark run)" if engine != SPARK_TARGET else "")
        )
    console.print(f"run {run_id} resumes run {failed.run_id} from stage {failed.stage}")
    _execute(settings, stages, run_id, "retry", wait)
