"""``audit.pipeline_runs``: one row per stage of a run (per source for ingestion), written by
us (not dlt).

dlt's own ``_dlt_loads`` table (one per raw schema) lists the loads; this table says what a
person wants to know about a run: when each stage ran, whether it worked, how many rows were
loaded and rejected, how many files quarantined, the error if any, and for a dbt stage the
invocation id of dbt's own records (``audit.dbt_results``, ``target/run_results.json``).
Every stage of one `shopflow run` (or one `shopflow ingest`) carries the same run id, given
by the CLI (``cli/run_id.py``); every task of one scheduled Airflow run gives the same one.

A row the warehouse cannot take (its server is gone) is kept in a local journal
(``audit_journal``) and written by the next write or the next command that reads the runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import psycopg2

from ingestion.database.connection import autocommit
from ingestion.database.errors import DatabaseError
from ingestion.loading import audit_journal
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

AUDIT_SCHEMA = "audit"
PIPELINE_RUNS_DDL = """
create schema if not exists audit;
create table if not exists audit.pipeline_runs (
    run_id text not null,
    stage text not null,
    source text not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    status text not null,
    rows_loaded bigint not null default 0,
    rows_rejected bigint not null default 0,
    files_quarantined integer not null default 0,
    error text,
    primary key (run_id, stage, source)
);
alter table audit.pipeline_runs add column if not exists command text;
alter table audit.pipeline_runs add column if not exists detail text;
alter table audit.pipeline_runs add column if not exists dbt_invocation_id text;
"""
STATUSES = ("running", "ok", "failed", "interrupted", "skipped")
"""A stage's status: ``running`` from its start until it ends (a row left ``running`` by a
process that died is marked ``interrupted`` by the next command)."""
UNREACHABLE = (DatabaseError, psycopg2.OperationalError, psycopg2.InterfaceError)
"""What writing a row raises when the server is gone: the row goes to the journal."""
NO_SOURCE = ""
"""The ``source`` of a stage that is not per source (simulate, dbt build, docs, ...)."""


@dataclass(frozen=True, kw_only=True)
class PipelineRun:
    """One row of ``audit.pipeline_runs``: what the ingestion, the lake export and the stage
    runner write, and what `shopflow status` and `shopflow retry` read back."""

    run_id: str
    command: str = "run"
    stage: str
    source: str
    started_at: dt.datetime
    finished_at: dt.datetime | None = None
    status: str
    rows_loaded: int = 0
    rows_rejected: int = 0
    files_quarantined: int = 0
    error: str | None = None
    detail: str | None = None
    dbt_invocation_id: str | None = None

    @property
    def seconds(self) -> float | None:
        """How long the stage took (None while it runs)."""
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> PipelineRun:
        """A row selected with ``RUN_COLUMNS``."""
        return cls(**dict(zip(RUN_FIELDS, row, strict=True)))


RUN_FIELDS = tuple(field.name for field in fields(PipelineRun))
RUN_COLUMNS = ", ".join(
    "coalesce(command, 'ingest') as command" if name == "command" else name for name in RUN_FIELDS
)
"""The select list that reads a row back as ``PipelineRun.from_row`` takes it (a row written
before the ``command`` column existed was an ingestion's)."""


def ensure_audit_table(settings: ConnectionSettings) -> None:
    """Create ``audit.pipeline_runs`` unless it exists."""
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(PIPELINE_RUNS_DDL)


def record_run(settings: ConnectionSettings, run: PipelineRun) -> None:
    """Insert (or update, for the same run, stage and source) one audit row, after the rows
    journaled before it. When the server cannot be reached the row is journaled (a warning
    names the journal) and the error raised again: the caller decides whether a warehouse
    gone is the end of its work."""
    try:
        replay_journal(settings)
        _write(settings, run)
    except UNREACHABLE as exc:
        path = audit_journal.append(settings, run)
        log.warning(
            "the warehouse did not take the audit row of stage %s (%s): kept in %s, written "
            "by the next shopflow command that reaches it",
            run.stage,
            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
            path,
        )
        raise


def replay_journal(settings: ConnectionSettings) -> int:
    """Write the rows journaled while the warehouse was unreachable; how many there were."""
    return audit_journal.replay(settings, lambda row: _write(settings, _from_journal(row)))


def _from_journal(row: dict[str, Any]) -> PipelineRun:
    known = set(PipelineRun.__dataclass_fields__)
    return PipelineRun(**{name: value for name, value in row.items() if name in known})


def _write(settings: ConnectionSettings, run: PipelineRun) -> None:
    ensure_audit_table(settings)
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            """
            insert into audit.pipeline_runs (
                run_id, stage, source, started_at, finished_at, status,
                rows_loaded, rows_rejected, files_quarantined, error, command, detail,
                dbt_invocation_id
            ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (run_id, stage, source) do update set
                started_at = excluded.started_at,
                finished_at = excluded.finished_at,
                command = excluded.command,
                detail = excluded.detail,
                dbt_invocation_id = excluded.dbt_invocation_id,
                status = excluded.status,
                rows_loaded = excluded.rows_loaded,
                rows_rejected = excluded.rows_rejected,
                files_quarantined = excluded.files_quarantined,
                error = excluded.error
            """,
            (
                run.run_id,
                run.stage,
                run.source,
                run.started_at,
                run.finished_at,
                run.status,
                run.rows_loaded,
                run.rows_rejected,
                run.files_quarantined,
                run.error,
                run.command,
                run.detail,
                run.dbt_invocation_id,
            ),
        )
    log.debug("audit: %s", run)
