"""A dbt invocation's outcome from run_results.json, and failures as one sentence."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ingestion.transform.dbt_runner import fresh_run_results
from ingestion.transform.run_results import error_lines, plain, read_run_results


def write_results(target: Path, results: list[dict[str, object]]) -> None:
    target.mkdir(parents=True, exist_ok=True)
    document = {
        "metadata": {"invocation_id": "inv-1", "invocation_started_at": "2026-12-02T10:00:00Z"},
        "results": results,
    }
    (target / "run_results.json").write_text(json.dumps(document))


def node(unique_id: str, status: str, message: str | None = None) -> dict[str, object]:
    return {"unique_id": unique_id, "status": status, "message": message, "failures": None}


def test_failures_are_named_with_their_messages(tmp_path: Path) -> None:
    write_results(
        tmp_path,
        [
            node(
                "model.shopflow.stg_files__marketing_spend",
                "error",
                "Database Error in model stg_files__marketing_spend (models/x.sql)\n"
                '  column "spend" does not exist\n  LINE 12: ...',
            ),
            node("test.shopflow.not_null_fct_orders_order_id.abc", "fail", "Got 3 results"),
            node("model.shopflow.mart_marketing_roas", "skipped"),
            node("model.shopflow.fct_orders", "success", "SELECT 10"),
        ],
    )
    results = read_run_results(tmp_path)
    assert results is not None and results.invocation_id == "inv-1"
    sentence = results.failure_sentence()
    assert sentence.startswith("2 of 4 dbt nodes failed, 1 skipped: ")
    assert 'model stg_files__marketing_spend: column "spend" does not exist;' in sentence
    assert "test not_null_fct_orders_order_id: Got 3 results" in sentence
    assert "\n" not in sentence
    assert results.counts() == {"error": 1, "fail": 1, "skipped": 1, "success": 1}


def test_a_good_build_has_no_failure_sentence_and_a_summary(tmp_path: Path) -> None:
    write_results(
        tmp_path, [node("model.shopflow.a", "success"), node("test.shopflow.t.1", "pass")]
    )
    results = read_run_results(tmp_path)
    assert results is not None
    assert results.failure_sentence() == ""
    assert results.summary() == "2 nodes: pass 1, success 1"


def test_missing_or_stale_results_are_not_taken_for_this_invocation(tmp_path: Path) -> None:
    assert read_run_results(tmp_path) is None
    write_results(tmp_path, [node("model.shopflow.a", "success")])
    path = tmp_path / "run_results.json"
    an_hour_ago = time.time() - 3600
    os.utime(path, (an_hour_ago, an_hour_ago))
    assert fresh_run_results(tmp_path, since=time.time() - 60) is None
    assert fresh_run_results(tmp_path, since=an_hour_ago - 1) is not None


def test_an_error_before_any_node_is_read_from_the_output_without_colours() -> None:
    output = (
        "\x1b[0m13:05:49  Running with dbt=1.11.2\n"
        "\x1b[0m13:05:50  Encountered an error:\n"
        "\x1b[0m13:05:50  \x1b[31mParsing Error\x1b[0m\n"
        "  at path ['models']: 'x' is not valid\n"
    )
    text = error_lines(output)
    assert text == "Encountered an error: Parsing Error at path ['models']: 'x' is not valid"
    assert plain("\x1b[32mOK\x1b[0m") == "OK"
