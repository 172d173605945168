"""A run's stages in ``audit.pipeline_runs``, and what later commands read back from it.

Every `shopflow run` (and `shopflow retry`, and `shopflow ingest` on its own) has one run
id; each of its stages leaves one row under that id (the ingest stage one per source,
written by the ingestion itself). A retry is a run of its own (command ``retry``) that
resumes the last failed (or interrupted) run: its dbt stage records the ``dbt retry``
invocation.

A stage's row is written as ``running`` when it starts and completed when it ends. A process
killed outright (``kill -9``, a machine that stopped) leaves it ``running``; the next command
that finds the run lock free (the lock dies with its holder) marks such rows ``interrupted``
(``reconcile``), after writing any rows the local journal kept while the warehouse was gone.
"""

from __future__ import annotations

import datetime as dt
import logging

from ingestion.database.connection import autocommit
from ingestion.loading.audit import (
    NO_SOURCE,
    RUN_COLUMNS,
    PipelineRun,
    ensure_audit_table,
    record_run,
    replay_journal,
)
from ingestion.settings import ConnectionSettings
from ingestion.stage_runner.run_lock import current_holder
from ingestion.stage_runner.stages import Stage, StageResult

log = logging.getLogger(__name__)

INGEST = "ingest"
SELF_RECORDING_STAGES = (INGEST, "lake")
"""Stages that record one row per source themselves (the ingestion, the lake export)."""
RED_STATUSES = ("failed", "interrupted")
"""A stage in one of these ended the run early; `shopflow retry` resumes from it."""
ABANDONED_ERROR = (
    "the process running this stage ended without finishing it (killed, or its machine "
    "stopped); `shopflow retry` resumes from here"
)
SETTLE_ABANDONED = """
    update audit.pipeline_runs
    set status = 'interrupted', error = %s, finished_at = coalesce(finished_at, now())
    where status = 'running' and started_at < %s
    returning run_id, stage
"""


class StageRecorder:
    """Writes each finished stage of one run to ``audit.pipeline_runs``."""

    def __init__(self, settings: ConnectionSettings, run_id: str, command: str) -> None:
        self.settings = settings
        self.run_id = run_id
        self.command = command

    def started(self, stage: Stage) -> None:
        """Record the stage as ``running`` (what the next command finds if we are killed)."""
        now = dt.datetime.now(dt.UTC)
        self(StageResult(stage.name, "running", 0.0, stage.description, started_at=now))

    def __call__(self, result: StageResult) -> None:
        """Record the stage; a failure to record is logged, never raised (the run goes on)."""
        try:
            if (
                result.name in SELF_RECORDING_STAGES
                and result.status in ("ok", "failed")
                and self._has_source_rows(result.name)
            ):
                self._forget_running_row(result.name)
                return  # the stage recorded itself, one row per source
            record_run(self.settings, self._row(result))
        except Exception:  # the audit must not be what breaks the run
            log.warning("could not record stage %s of run %s", result.name, self.run_id)
            log.debug("recording failed", exc_info=True)

    def _row(self, result: StageResult) -> PipelineRun:
        failed = result.status in RED_STATUSES
        return PipelineRun(
            run_id=self.run_id,
            stage=result.name,
            source=NO_SOURCE,
            started_at=result.started_at or dt.datetime.now(dt.UTC),
            finished_at=None if result.status == "running" else result.finished_at,
            status=result.status,
            rows_loaded=0,
            rows_rejected=0,
            files_quarantined=0,
            error=result.detail if failed else None,
            command=self.command,
            detail=None if failed else result.detail,
            dbt_invocation_id=result.dbt_invocation_id,
        )

    def _has_source_rows(self, stage: str) -> bool:
        ensure_audit_table(self.settings)
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(
                "select exists (select from audit.pipeline_runs "
                "where run_id = %s and stage = %s and source <> %s)",
                (self.run_id, stage, NO_SOURCE),
            )
            row = cursor.fetchone()
        return bool(row and row[0])

    def _forget_running_row(self, stage: str) -> None:
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(
                "delete from audit.pipeline_runs where run_id = %s and stage = %s "
                "and source = %s and status = 'running'",
                (self.run_id, stage, NO_SOURCE),
            )


def reconcile(settings: ConnectionSettings, lock_held: bool = False) -> None:
    """Make ``audit.pipeline_runs`` honest before it is read or added to: write the rows the
    journal kept, then mark ``interrupted`` the stages left ``running`` by a process that
    died. ``lock_held``: the caller holds the run lock (else nothing is marked while another
    command holds it: its running stages are running). Logged, never raised."""
    try:
        replay_journal(settings)
        looked_at = dt.datetime.now(dt.UTC)
        if not lock_held and _lock_is_held(settings):
            log.debug("a run holds the lock: its running stages are left as they are")
            return
        # only rows started before the look: a run starting just after it is alive
        _settle_abandoned(settings, started_before=looked_at)
    except Exception as exc:
        log.warning("could not bring the audit of %s up to date: %s", settings.database, exc)
        log.debug("reconcile failed", exc_info=True)


def _lock_is_held(settings: ConnectionSettings) -> bool:
    """Whether a command holds the run lock: looked at, not taken (taking it, even for a
    moment, could refuse a run starting then)."""
    with autocommit(settings, settings.database) as cursor:
        return current_holder(cursor) is not None


def _settle_abandoned(settings: ConnectionSettings, started_before: dt.datetime) -> None:
    ensure_audit_table(settings)
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(SETTLE_ABANDONED, (ABANDONED_ERROR, started_before))
        settled = cursor.fetchall()
    for run_id, stage in settled:
        log.warning("run %s: stage %s was left running by a process that died", run_id, stage)


LAST_RUN_QUERY = f"""
    select {RUN_COLUMNS}
    from audit.pipeline_runs
    where run_id = (
        select run_id from audit.pipeline_runs
        where run_id <> %s
        group by run_id
        order by max(started_at) desc
        limit 1
    )
    order by started_at, stage, source
"""


def last_run(settings: ConnectionSettings, other_than: str = "") -> list[PipelineRun]:
    """The rows of the most recent run (other than ``other_than``), in stage order."""
    ensure_audit_table(settings)
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(LAST_RUN_QUERY, (other_than,))
        return [PipelineRun.from_row(row) for row in cursor.fetchall()]


def run_failed(stages: list[PipelineRun]) -> bool:
    """Whether any stage of the run failed or was interrupted."""
    return any(stage.status in RED_STATUSES for stage in stages)


def previous_run_failed(settings: ConnectionSettings, run_id: str) -> bool:
    """Whether the run before ``run_id`` failed (False when there was none or it is unknown)."""
    try:
        return run_failed(last_run(settings, other_than=run_id))
    except Exception:  # the answer only decides whether a recovery notice is sent
        log.debug("could not read the previous run", exc_info=True)
        return False


def first_failed_stage(stages: list[PipelineRun]) -> PipelineRun | None:
    """The run's first failed or interrupted stage (the one to resume from)."""
    return next((stage for stage in stages if stage.status in RED_STATUSES), None)
