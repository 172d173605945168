"""What `shopflow status` calls red, and how it reads freshness and the production build."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ingestion.loading.audit import PipelineRun
from ingestion.monitoring.status import (
    GREEN,
    RED,
    YELLOW,
    SourceFreshness,
    TestOutcome,
    WarehouseStatus,
    read_freshness,
    verdict,
)

NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def stage_run(run_id: str, stage: str, status: str, minutes_ago: int) -> PipelineRun:
    started = NOW - dt.timedelta(minutes=minutes_ago)
    return PipelineRun(
        run_id=run_id,
        stage=stage,
        source="",
        started_at=started,
        finished_at=started,
        status=status,
    )


def freshness(status: str) -> SourceFreshness:
    return SourceFreshness("ops", "orders", NOW, 1.0, status, "warn 24 h, error 72 h")


def test_a_healthy_warehouse_has_no_problems() -> None:
    status = WarehouseStatus(
        tables=[],
        tests=[TestOutcome("not_null_x", "test", "pass", 0), TestOutcome("w", "test", "warn", 2)],
        runs=[stage_run("old", "ingest", "failed", 90), stage_run("new", "ingest", "ok", 5)],
        freshness=[freshness("pass"), freshness("warn")],
    )
    assert status.problems() == []  # an older failure and warnings are not red
    assert json.loads(status.as_json())["healthy"] is True


def test_a_failed_last_run_a_failing_test_and_a_stale_source_are_red() -> None:
    status = WarehouseStatus(
        tables=[],
        tests=[TestOutcome("unique_x", "test", "fail", 3)],
        runs=[stage_run("new", "dbt-build", "failed", 5), stage_run("old", "ingest", "ok", 90)],
        freshness=[freshness("error")],
    )
    problems = status.problems()
    assert problems == [
        "the last run (new) failed at: dbt-build",
        "1 test(s) failing in the last production build",
        "stale source(s), past their error_after: ops.orders",
    ]
    document = json.loads(status.as_json())
    assert document["healthy"] is False and document["problems"] == problems


def test_a_named_run_is_judged_instead_of_the_most_recent_one() -> None:
    runs = [stage_run("scheduled", "ingest", "failed", 90), stage_run("manual", "ingest", "ok", 5)]
    judged = WarehouseStatus(tables=[], tests=[], runs=runs, run_id="scheduled")
    assert [run.run_id for run in judged.last_run] == ["scheduled"]
    assert judged.problems() == ["the run (scheduled) failed at: ingest"]
    assert WarehouseStatus(tables=[], tests=[], runs=runs).problems() == []


def test_a_named_run_with_no_stage_recorded_is_red() -> None:
    runs = [stage_run("manual", "ingest", "ok", 5)]
    status = WarehouseStatus(tables=[], tests=[], runs=runs, run_id="never-ran")
    assert status.last_run == []
    assert status.problems() == ["no stage of run never-ran is recorded in audit.pipeline_runs"]


def test_freshness_is_aged_to_now_against_dbt_criteria(tmp_path: Path) -> None:
    def result(table: str, loaded: str | None, status: str = "pass") -> dict[str, object]:
        return {
            "unique_id": f"source.shopflow.ops.{table}",
            "max_loaded_at": loaded,
            "status": status,
            "criteria": {
                "warn_after": {"count": 24, "period": "hour"},
                "error_after": {"count": 72, "period": "hour"},
            },
        }

    path = tmp_path / "sources.json"
    path.write_text(
        json.dumps(
            {
                "results": [
                    result("orders", "2026-12-02T10:00:00+00:00"),
                    result("payments", "2026-11-30T10:00:00+00:00"),  # passed when measured
                    result("customers", "2026-11-25T12:00:00+00:00"),
                    result("deliveries", None, "runtime error"),
                ]
            }
        )
    )
    found = {item.table: item for item in read_freshness(path, now=NOW)}
    assert found["orders"].status == "pass" and found["orders"].age_hours == 2.0
    assert found["payments"].status == "warn"  # 50 hours old now
    assert found["customers"].status == "error"
    assert found["deliveries"].status == "runtime error"
    assert found["orders"].criteria == "warn 24 h, error 72 h"
    assert read_freshness(tmp_path / "missing.json") == []


def ingest_run(source: str, rejected: int, quarantined: int) -> PipelineRun:
    return PipelineRun(
        run_id="new",
        stage="ingest",
        source=source,
        started_at=NOW,
        finished_at=NOW,
        status="ok",
        rows_rejected=rejected,
        files_quarantined=quarantined,
    )


def test_rows_set_aside_make_the_verdict_yellow_not_red() -> None:
    runs = [ingest_run("storefront", 3, 0), ingest_run("files", 0, 1), ingest_run("ops", 0, 0)]
    status = WarehouseStatus(tables=[], tests=[], runs=runs)
    assert status.problems() == []
    attention = status.attention()
    assert attention == [
        "storefront: 3 row(s) rejected in run new, missing from the marts until repaired "
        "(raw_storefront.rejected_records)",
        "files: 1 file(s) quarantined in run new, missing from the marts until repaired "
        "(raw_files.rejected_records, raw_files.quarantined_files)",
    ]
    level, line = verdict(status.problems(), attention, status.next_step())
    assert level == YELLOW
    assert line.startswith("YELLOW: storefront: 3 row(s) rejected") and "(+1 more below)" in line
    assert json.loads(status.as_json())["attention"] == attention


def test_red_leads_with_its_first_cause_and_the_next_command() -> None:
    status = WarehouseStatus(
        tables=[],
        tests=[TestOutcome("unique_x", "test", "fail", 3)],
        runs=[stage_run("new", "dbt-build", "failed", 5)],
        freshness=[freshness("error")],
    )
    level, line = verdict(status.problems(), status.attention(), status.next_step())
    assert level == RED
    assert line == (
        "RED: the last run (new) failed at: dbt-build (+2 more below); next: `shopflow retry`"
        " (resumes what failed; the runs table says why)"
    )
    only_stale = WarehouseStatus(tables=[], tests=[], runs=[], freshness=[freshness("error")])
    assert only_stale.next_step().startswith("`shopflow run`")
    assert verdict([], [], "") == (
        GREEN,
        "GREEN: the last run passed, every test passes, every source is fresh",
    )
