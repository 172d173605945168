"""What an alert says: a plain webhook as an apprise URL, the event of a failed run (dbt's counts
and failing nodes, only from this run), details shortened to their first line and end."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.monitoring.alerts import (
    AlertEvent,
    failed_run_event,
    shorten_detail,
    webhook_as_apprise_url,
)
from ingestion.stage_runner.stages import StageResult
from tests.monitoring.alerts.alert_cases import stage_results, write_run_results


@pytest.mark.parametrize(
    ("webhook", "expected"),
    [
        ("http://hooks.example.com/a/b", "json://hooks.example.com/a/b"),
        ("https://u:p@hooks.example.com:8443/a?x=1", "jsons://u:p@hooks.example.com:8443/a?-x=1"),
        ("https://hooks.example.com", "jsons://hooks.example.com/"),
        ("slack://T1/B1/C1", "slack://T1/B1/C1"),
        (  # a Slack incoming webhook goes to apprise's Slack service, which needs its format
            "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
            "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
        ),
    ],
)
def test_a_plain_webhook_becomes_an_apprise_url(webhook: str, expected: str) -> None:
    assert webhook_as_apprise_url(webhook) == expected


def test_failed_dbt_stage_reports_dbt_counts_and_failing_nodes(tmp_path: Path) -> None:
    run_results = write_run_results(tmp_path / "run_results.json")

    event = failed_run_event(stage_results(), run_id="r1", run_results_path=run_results)

    assert event is not None
    assert event.stage == "dbt build" and event.run_id == "r1"
    assert event.counts == {
        "stages_ok": 1,
        "stages_failed": 1,
        "stages_skipped": 1,
        "dbt_error": 1,
        "dbt_fail": 1,
        "dbt_skipped": 1,
        "dbt_success": 1,
        "dbt_warn": 1,
    }
    assert list(event.failed_nodes) == ["unique_fct_orders_order_id", "fct_sales"]


def test_stale_run_results_are_not_reported(tmp_path: Path) -> None:
    run_results = write_run_results(tmp_path / "run_results.json")
    later = run_results.stat().st_mtime + 60

    event = failed_run_event(stage_results(), "r2", run_results_path=run_results, since=later)

    assert event is not None and event.failed_nodes == ()
    assert set(event.counts) == {"stages_ok", "stages_failed", "stages_skipped"}
    assert event.run_id == "r2"  # the run's own id, never one made up here


def test_no_event_when_every_stage_passed() -> None:
    assert failed_run_event([StageResult("ingest", "ok", 1.0, "fine")], "r3") is None


def test_a_multi_line_detail_leads_with_its_first_line_and_keeps_the_rest_below() -> None:
    detail = "dbt build failed (exit 1): 2 tests failed\n\nFailure in test unique_x\n  got 3 rows"

    body = AlertEvent(stage="dbt build", what_failed=detail, run_id="r9").notice().body

    first, *rest = body.splitlines()
    assert first == "Stage 'dbt build' failed: dbt build failed (exit 1): 2 tests failed"
    assert "Details:" in rest and "  got 3 rows" in rest


def test_long_details_keep_their_first_line_and_their_end() -> None:
    detail = "dbt build failed (exit 1):\n" + "x" * 5000 + "\nDatabase Error in fct_sales"

    short = shorten_detail(detail, limit=500)

    assert len(short) <= 500
    assert short.startswith("dbt build failed") and short.endswith("in fct_sales")
