"""What `shopflow status` reports, read from the warehouse and the production state.

- the last runs, stage by stage, with their whole error (``audit.pipeline_runs``);
- source freshness: dbt's ``sources.json`` of the last production build, its ages measured
  again now (a pipeline that stopped running goes stale while nobody builds);
- the tests of the last *production* build: the build `shopflow run` made, with the `dbt
  retry` invocations that resumed it (rows of ``audit.dbt_results`` marked with its run id);
  ad-hoc dbt commands never replace it;
- the quality metrics per source and table (``audit.audit_data_quality``);
- how the operations database is read and how far its replication slot trails (``capture_lag``).
``problems`` lists what is red; the command exits non-zero when it is not empty.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ingestion.database.connection import autocommit, database_exists, one_row
from ingestion.database.errors import WarehouseNotBuiltError
from ingestion.loading.audit import RUN_COLUMNS, PipelineRun, ensure_audit_table
from ingestion.monitoring.capture_lag import CaptureStatus, read_capture
from ingestion.settings import ConnectionSettings
from ingestion.stage_runner.run_record import reconcile
from ingestion.transform.production_build import freshness_file
from ingestion.transform.stale_models import StaleModel, describe_stale, latest_stale

log = logging.getLogger(__name__)

QUALITY_VIEW = "audit.audit_data_quality"
PIPELINE_RUNS = "audit.pipeline_runs"
DBT_RESULTS = "audit.dbt_results"
RED_TEST_STATUSES = ("fail", "error", "runtime error")
SEVERITY = {status: rank for rank, status in enumerate((*RED_TEST_STATUSES, "warn"))}
"""The order problem tests are listed in: errors and failures first, then warnings."""
PERIOD_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class TableQuality:
    source: str
    table: str
    loads: int
    last_loaded_at: dt.datetime | None
    rows_loaded: int
    rows_rejected: int
    files_quarantined: int
    rows_invalid: int


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # a dbt test's outcome, not a pytest class

    name: str
    test_type: str
    status: str
    failures: int | None
    message: str | None = None


@dataclass(frozen=True)
class SourceFreshness:
    """A source table's newest load and how old it is now, against dbt's freshness criteria."""

    source: str
    table: str
    max_loaded_at: dt.datetime | None
    age_hours: float | None
    status: str  # pass, warn, error, runtime error
    criteria: str


@dataclass(frozen=True)
class WarehouseStatus:
    tables: list[TableQuality]
    tests: list[TestOutcome]
    runs: list[PipelineRun]
    freshness: list[SourceFreshness] = field(default_factory=list)
    production_invocations: list[str] = field(default_factory=list)
    stale: list[StaleModel] = field(default_factory=list)
    """Models the last run did not rebuild: they depend on raw tables that failed to load."""
    run_id: str | None = None
    """The run judged (`shopflow status --run-id`, e.g. the scheduled run a gate belongs
    to); None: the most recent one."""
    capture: CaptureStatus | None = None
    """The operations capture (None: not read, as in tests that build a status by hand)."""

    def test_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for test in self.tests:
            counts[test.status] = counts.get(test.status, 0) + 1
        return counts

    @property
    def problem_tests(self) -> list[TestOutcome]:
        return [test for test in self.tests if test.status != "pass"]

    @property
    def last_run(self) -> list[PipelineRun]:
        """The stages of the run judged: ``run_id``'s, else the most recent run's."""
        if not self.runs:
            return []
        judged = self.run_id or max(self.runs, key=lambda run: run.started_at).run_id
        return [run for run in self.runs if run.run_id == judged]

    def problems(self) -> list[str]:
        """What is red, one sentence each (empty when all is well)."""
        found: list[str] = []
        which = "the last run" if self.run_id is None else "the run"
        if self.run_id is not None and not self.last_run:
            found.append(f"no stage of run {self.run_id} is recorded in {PIPELINE_RUNS}")
        failed = [run for run in self.last_run if run.status == "failed"]
        if failed:
            where = ", ".join(f"{r.stage} {r.source}".strip() for r in failed)
            found.append(f"{which} ({failed[0].run_id}) failed at: {where}")
        stopped = [run for run in self.last_run if run.status == "interrupted"]
        if stopped:
            where = ", ".join(f"{r.stage} {r.source}".strip() for r in stopped)
            found.append(
                f"{which} ({stopped[0].run_id}) was interrupted at: {where} "
                "(`shopflow retry` resumes it)"
            )
        red_tests = [test for test in self.tests if test.status in RED_TEST_STATUSES]
        if red_tests:
            found.append(f"{len(red_tests)} test(s) failing in the last production build")
        stale = [
            f"{s.source}.{s.table}"
            for s in self.freshness
            if s.status in ("error", "runtime error")
        ]
        if stale:
            found.append(f"stale source(s), past their error_after: {', '.join(stale)}")
        if self.stale:
            found.append(describe_stale(self.stale))
        if self.capture is not None and (capture := self.capture.problem()):
            found.append(capture)
        return found

    def attention(self) -> list[str]:
        """What is yellow: data the judged run set aside (rows rejected, files quarantined),
        which the marts lack until it is repaired; one sentence per source."""
        found: list[str] = []
        for run in self.last_run:
            if run.stage != "ingest" or not (run.rows_rejected or run.files_quarantined):
                continue
            parts = [f"{run.rows_rejected:,} row(s) rejected"] if run.rows_rejected else []
            if run.files_quarantined:
                parts.append(f"{run.files_quarantined:,} file(s) quarantined")
            found.append(
                f"{run.source}: {' and '.join(parts)} in run {run.run_id}, missing from the "
                f"marts until repaired (raw_{run.source}.rejected_records"
                + (f", raw_{run.source}.quarantined_files" if run.files_quarantined else "")
                + ")"
            )
        return found

    def next_step(self) -> str:
        """The command to run first about what is red (empty when nothing is)."""
        if any(run.status in ("failed", "interrupted") for run in self.last_run):
            return "`shopflow retry` (resumes what failed; the runs table says why)"
        if any(test.status in RED_TEST_STATUSES for test in self.tests):
            return "`dbt show -s <failing test>` for its rows (the tests table names them)"
        if any(s.status in ("error", "runtime error") for s in self.freshness):
            return "`shopflow run` (or `shopflow ingest <source>` for the stale one)"
        if self.problems():
            return "`shopflow run` once the cause above is fixed"
        return ""

    def as_json(self) -> str:
        """The whole status for machines, with ``healthy`` and ``problems`` on top."""
        document: dict[str, Any] = {
            "healthy": not self.problems(),
            "problems": self.problems(),
            "attention": self.attention(),
            "next": self.next_step(),
            "runs": [asdict(run) for run in self.runs],
            "freshness": [asdict(item) for item in self.freshness],
            "stale_models": [asdict(model) for model in self.stale],
            "production_build": {
                "dbt_invocation_ids": self.production_invocations,
                "test_counts": self.test_counts(),
                "problem_tests": [asdict(test) for test in self.problem_tests],
            },
            "tables": [asdict(table) for table in self.tables],
            "ops_capture": self.capture.as_dict() if self.capture else None,
        }
        return json.dumps(document, indent=2, default=str)


TABLES_QUERY = f"""
    select
        source_name,
        table_name,
        count(*) as loads,
        max(measured_at) as last_loaded_at,
        coalesce(sum(rows_loaded), 0),
        coalesce(sum(rows_rejected), 0),
        coalesce(sum(files_quarantined), 0),
        coalesce(sum(rows_invalid), 0)
    from {QUALITY_VIEW}
    where record_type = 'load'
    group by source_name, table_name
    order by source_name, table_name
"""

PRODUCTION_TESTS_QUERY = f"""
    with production as (
        select production_run_id
        from {DBT_RESULTS}
        where production_run_id is not null
        order by run_started_at desc
        limit 1
    )
    select distinct on (results.unique_id)
        results.node_name, results.resource_type, results.status, results.failures,
        results.message, results.invocation_id
    from {DBT_RESULTS} as results
    inner join production on results.production_run_id = production.production_run_id
    where results.resource_type in ('test', 'unit_test')
    order by results.unique_id, results.run_started_at desc
"""
"""Each test's latest outcome in the last production build: the invocations marked with the
newest ``production_run_id`` (the build of the latest `shopflow run` and the `dbt retry`
invocations that resumed it). The rule of ``audit_data_quality``'s test rows, read from the
table itself because a failed build can leave that view dropped."""

RUNS_QUERY = f"""
    select {RUN_COLUMNS}
    from {PIPELINE_RUNS}
    where run_id in (
        select run_id from {PIPELINE_RUNS} group by run_id order by max(started_at) desc
        limit %s
    ) or run_id = %s
    order by started_at desc, stage, source
"""
"""The stages of the last runs, and of the run judged when one is named."""


def _period(criterion: dict[str, Any] | None) -> float | None:
    if not criterion or not criterion.get("count") or not criterion.get("period"):
        return None
    return float(criterion["count"]) * PERIOD_SECONDS[criterion["period"]]


def read_freshness(path: Path, now: dt.datetime | None = None) -> list[SourceFreshness]:
    """dbt's source freshness results, each age measured again at ``now``."""
    try:
        results = json.loads(path.read_text())["results"]
    except (OSError, ValueError, KeyError) as exc:
        log.debug("no source freshness in %s: %s", path, exc)
        return []
    now = now or dt.datetime.now(dt.UTC)
    found: list[SourceFreshness] = []
    for result in results:
        _, _, source, table = result["unique_id"].split(".", 3)
        criteria = result.get("criteria") or {}
        warn, error = _period(criteria.get("warn_after")), _period(criteria.get("error_after"))
        described = ", ".join(
            f"{name} {int(seconds // 3600)} h"
            for name, seconds in (("warn", warn), ("error", error))
            if seconds is not None
        )
        loaded = result.get("max_loaded_at")
        if result.get("status") == "runtime error" or not loaded:
            found.append(
                SourceFreshness(source, table, None, None, "runtime error", described or "-")
            )
            continue
        max_loaded_at = dt.datetime.fromisoformat(loaded)
        age = (now - max_loaded_at).total_seconds()
        status = (
            "error"
            if error is not None and age > error
            else "warn"
            if warn is not None and age > warn
            else "pass"
        )
        found.append(
            SourceFreshness(source, table, max_loaded_at, age / 3600, status, described or "-")
        )
    return sorted(found, key=lambda item: (item.source, item.table))


def read_status(
    settings: ConnectionSettings, last_runs: int = 3, run_id: str | None = None
) -> WarehouseStatus:
    """The quality metrics, the last production build's tests, source freshness and the
    stages of the last ``last_runs`` runs (and of ``run_id``, the run judged, if named)."""
    not_built = WarehouseNotBuiltError(
        f"The warehouse {settings.database!r} has not been built yet (no {QUALITY_VIEW}, "
        f"no {PIPELINE_RUNS}). "
        "Run `shopflow run` (or `make demo`) first."
    )
    if not database_exists(settings, settings.database):
        raise not_built
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            "select to_regclass(%s) is not null, to_regclass(%s) is not null, "
            "exists (select from information_schema.columns where table_schema = 'audit' "
            "and table_name = 'dbt_results' and column_name = 'production_run_id')",
            (QUALITY_VIEW, PIPELINE_RUNS),
        )
        # a warehouse last built before production builds were marked has no such column
        # yet: no production build to show until the next `shopflow run`
        has_quality, has_runs, has_results = one_row(cursor)
        if not has_quality and not has_runs:
            raise not_built
    if has_runs:  # the columns a warehouse from before run ids lacks are added in place
        ensure_audit_table(settings)
    # journaled rows written, stages a killed run left running marked interrupted
    reconcile(settings)
    with autocommit(settings, settings.database) as cursor:
        tables: list[TableQuality] = []
        if has_quality:  # a failed build can leave the view dropped; the runs still tell why
            cursor.execute(TABLES_QUERY)
            tables = [TableQuality(*row) for row in cursor.fetchall()]
        runs: list[PipelineRun] = []
        rows: list[tuple[Any, ...]] = []
        if has_runs:
            cursor.execute(RUNS_QUERY, (last_runs, run_id))
            runs = [PipelineRun.from_row(row) for row in cursor.fetchall()]
        if has_results:
            cursor.execute(PRODUCTION_TESTS_QUERY)
            rows = list(cursor.fetchall())
    tests = sorted(
        (TestOutcome(*row[:5]) for row in rows),
        key=lambda test: (SEVERITY.get(test.status, len(SEVERITY)), test.name),
    )
    invocations = sorted({row[5] for row in rows})
    return WarehouseStatus(
        tables=tables,
        tests=tests,
        runs=runs,
        freshness=read_freshness(freshness_file(settings)),
        production_invocations=invocations,
        stale=latest_stale(settings) if has_runs else [],
        run_id=run_id,
        capture=read_capture(settings),
    )


GREEN, YELLOW, RED = "green", "yellow", "red"


def verdict(problems: list[str], attention: list[str], next_step: str) -> tuple[str, str]:
    """The status in one line, first on the screen: green, yellow (data set aside, nothing
    broken) or red, with its first cause and the command to run next."""
    if problems:
        more = f" (+{len(problems) - 1} more below)" if len(problems) > 1 else ""
        then = f"; next: {next_step}" if next_step else ""
        return RED, f"RED: {problems[0]}{more}{then}"
    if attention:
        more = f" (+{len(attention) - 1} more below)" if len(attention) > 1 else ""
        return YELLOW, (f"YELLOW: {attention[0]}{more}; next: repair the source and `shopflow run`")
    return GREEN, "GREEN: the last run passed, every test passes, every source is fresh"
