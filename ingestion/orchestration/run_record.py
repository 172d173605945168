"""A run's stages in ``audit.pipeline_runs``, and what later commands read back from it.

Every `shopflow run` (and `shopflow retry`, and `shopflow ingest` on its own) has one run
id; each of its stages leaves one row under that id (the ingest stage one per source,
written by the ingestion itself). A retry is a run of its own (command ``retry``) that
resumes the last failed run: its dbt stage records the ``dbt retry`` invocation.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from ingestion.database.connection import autocommit
from ingestion.loading.audit import NO_SOURCE, PipelineRun, ensure_audit_table, record_run
from ingestion.orchestration.stages import StageResult
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

INGEST = "ingest"
SELF_RECORDING_STAGES = (INGEST, "lake")
"""Stages that record one row per source themselves (the ingestion, the lake export)."""


@dataclass(frozen=True)
class RecordedStage:
    """One audit row, as a later command needs it."""

    run_id: str
    command: str
    stage: str
    source: str
    status: str
    error: str | None


class StageRecorder:
    """Writes each finished stage of one run to ``audit.pipeline_runs``."""

    def __init__(self, settings: ConnectionSettings, run_id: str, command: str) -> None:
        self.settings = settings
        self.run_id = run_id
        self.command = command

    def __call__(self, result: StageResult) -> None:
        """Record the stage; a failure to record is logged, never raised (the run goes on)."""
        try:
            if result.name in SELF_RECORDING_STAGES and self._has_source_rows(result.name):
                return  # the stage recorded itself, one row per source
            record_run(self.settings, self._row(result))
        except Exception:  # the audit must not be what breaks the run
            log.warning("could not record stage %s of run %s", result.name, self.run_id)
            log.debug("recording failed", exc_info=True)

    def _row(self, result: StageResult) -> PipelineRun:
        failed = result.status == "failed"
        return PipelineRun(
            run_id=self.run_id,
            stage=result.name,
            source=NO_SOURCE,
            started_at=result.started_at or dt.datetime.now(dt.UTC),
            finished_at=result.finished_at,
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


LAST_RUN_QUERY = """
    select run_id, coalesce(command, 'ingest'), stage, source, status, error
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


def last_run(settings: ConnectionSettings, other_than: str = "") -> list[RecordedStage]:
    """The rows of the most recent run (other than ``other_than``), in stage order."""
    ensure_audit_table(settings)
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(LAST_RUN_QUERY, (other_than,))
        return [RecordedStage(*row) for row in cursor.fetchall()]


def run_failed(stages: list[RecordedStage]) -> bool:
    """Whether any stage of the run failed."""
    return any(stage.status == "failed" for stage in stages)


def previous_run_failed(settings: ConnectionSettings, run_id: str) -> bool:
    """Whether the run before ``run_id`` failed (False when there was none or it is unknown)."""
    try:
        return run_failed(last_run(settings, other_than=run_id))
    except Exception:  # the answer only decides whether a recovery notice is sent
        log.debug("could not read the previous run", exc_info=True)
        return False


def first_failed_stage(stages: list[RecordedStage]) -> RecordedStage | None:
    """The run's first failed stage (the one to resume from)."""
    return next((stage for stage in stages if stage.status == "failed"), None)
