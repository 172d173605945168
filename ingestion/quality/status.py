"""What `shopflow status` reports: the quality metrics (`audit.audit_data_quality`) and the
last pipeline runs (`audit.pipeline_runs`), read from the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingestion.database.connection import autocommit, database_exists
from ingestion.settings import ConnectionSettings

QUALITY_VIEW = "audit.audit_data_quality"
PIPELINE_RUNS = "audit.pipeline_runs"


class WarehouseNotBuiltError(RuntimeError):
    """The warehouse has no quality metrics yet; the message says what to run."""


@dataclass(frozen=True)
class TableQuality:
    source: str
    table: str
    loads: int
    last_loaded_at: datetime | None
    rows_loaded: int
    rows_rejected: int
    files_quarantined: int
    rows_invalid: int


@dataclass(frozen=True)
class TestOutcome:
    name: str
    test_type: str
    status: str
    failures: int | None


@dataclass(frozen=True)
class PipelineRun:
    run_id: str
    stage: str
    source: str | None
    started_at: datetime
    finished_at: datetime | None
    status: str
    rows_loaded: int | None
    rows_rejected: int | None
    error: str | None


@dataclass(frozen=True)
class WarehouseStatus:
    tables: list[TableQuality]
    tests: list[TestOutcome]
    runs: list[PipelineRun]

    def test_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for test in self.tests:
            counts[test.status] = counts.get(test.status, 0) + 1
        return counts

    @property
    def problem_tests(self) -> list[TestOutcome]:
        return [test for test in self.tests if test.status != "pass"]


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

TESTS_QUERY = f"""
    select test_name, test_type, test_status, test_failures
    from {QUALITY_VIEW}
    where record_type = 'test'
    order by
        case test_status when 'error' then 0 when 'fail' then 1 when 'warn' then 2 else 3 end,
        test_name
"""

RUNS_QUERY = f"""
    select run_id, stage, source, started_at, finished_at, status, rows_loaded, rows_rejected,
        error
    from {PIPELINE_RUNS}
    where run_id in (
        select run_id from {PIPELINE_RUNS} group by run_id order by max(started_at) desc
        limit %s
    )
    order by started_at desc
"""


def read_status(settings: ConnectionSettings, last_runs: int = 3) -> WarehouseStatus:
    """The quality metrics and the stages of the last `last_runs` pipeline runs."""
    not_built = WarehouseNotBuiltError(
        f"The warehouse {settings.database!r} has not been built yet (no {QUALITY_VIEW}). "
        "Run `shopflow run` (or `make demo`) first."
    )
    if not database_exists(settings, settings.database):
        raise not_built
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            "select to_regclass(%s) is not null, to_regclass(%s) is not null",
            (QUALITY_VIEW, PIPELINE_RUNS),
        )
        has_quality, has_runs = cursor.fetchone()
        if not has_quality:
            raise not_built
        cursor.execute(TABLES_QUERY)
        tables = [TableQuality(*row) for row in cursor.fetchall()]
        cursor.execute(TESTS_QUERY)
        tests = [TestOutcome(*row) for row in cursor.fetchall()]
        runs: list[PipelineRun] = []
        if has_runs:
            cursor.execute(RUNS_QUERY, (last_runs,))
            runs = [PipelineRun(*row) for row in cursor.fetchall()]
    return WarehouseStatus(tables=tables, tests=tests, runs=runs)
