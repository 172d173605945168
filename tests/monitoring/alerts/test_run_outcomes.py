"""A run's outcome reaches real receivers on 127.0.0.1 through apprise: a failure with its run
id, cause and fields, a recovery, nothing when all is well or nothing is set; the old
webhook setting, several URLs, fields set in the URL; `shopflow run` alerting on a failed
stage."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.monitoring.alerts import ENV_ALERT_URL, ENV_ALERT_WEBHOOK, notify_run_outcome
from tests.alerting import Receiver, fake_failing_run
from tests.monitoring.alerts.alert_cases import CAUSE, GOOD_RUN, stage_results


def test_a_failed_run_reaches_a_json_receiver_with_run_id_cause_and_fields(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, run_results: Path
) -> None:
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    assert notify_run_outcome("run-42", stage_results(), previous_run_failed=False) is True

    assert len(receiver.received) == 1
    request = receiver.received[0]
    body = request["body"]
    assert request["path"] == "/hook" and request["content_type"] == "application/json"
    assert body["type"] == "failure"
    assert "run-42" in body["title"] and "dbt build" in body["title"]
    assert CAUSE in body["message"] and "run-42" in body["message"]
    assert "unique_fct_orders_order_id, fct_sales" in body["message"]
    assert "stages_failed 1" in body["message"] and "dbt_fail 1" in body["message"]
    assert body["outcome"] == "failed"
    assert body["run_id"] == "run-42" and body["stage"] == "dbt build"
    assert body["failed_nodes"] == "unique_fct_orders_order_id,fct_sales"


def test_run_results_from_before_the_run_are_not_reported(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, run_results: Path
) -> None:
    an_hour_ago = time.time() - 3600
    os.utime(run_results, (an_hour_ago, an_hour_ago))
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    assert notify_run_outcome("run-43", stage_results(), previous_run_failed=False) is True

    body = receiver.bodies[0]
    assert body["failed_nodes"] == "" and "dbt_" not in body["message"]


def test_the_first_good_run_after_a_failed_one_says_recovered(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    assert notify_run_outcome("run-44", GOOD_RUN, previous_run_failed=True) is True

    assert len(receiver.received) == 1
    body = receiver.bodies[0]
    assert body["type"] == "success" and body["outcome"] == "recovered"
    assert "run-44" in body["title"] and "recovered" in body["title"]
    assert "previous run failed" in body["message"] and "stages_ok 2" in body["message"]
    assert body["run_id"] == "run-44"


def test_a_failed_run_after_a_failed_run_still_alerts(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, run_results: Path
) -> None:
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    assert notify_run_outcome("run-45", stage_results("ingest"), previous_run_failed=True)

    assert [body["outcome"] for body in receiver.bodies] == ["failed"]


def test_nothing_when_every_stage_passed_and_the_previous_run_did_too(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    assert notify_run_outcome("run-46", GOOD_RUN, previous_run_failed=False) is False

    assert receiver.received == []


def test_nothing_is_sent_without_a_url(receiver: Receiver) -> None:
    assert os.environ.get(ENV_ALERT_URL) is None and os.environ.get(ENV_ALERT_WEBHOOK) is None

    assert notify_run_outcome("run-47", stage_results(), previous_run_failed=True) is False
    assert notify_run_outcome("run-48", GOOD_RUN, previous_run_failed=True) is False

    assert receiver.received == []


def test_the_old_webhook_setting_still_works(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, run_results: Path
) -> None:
    monkeypatch.setenv(ENV_ALERT_WEBHOOK, f"http://127.0.0.1:{receiver.port}/old/hook?token=abc")

    assert notify_run_outcome("run-49", stage_results(), previous_run_failed=False) is True

    request = receiver.received[0]
    assert request["path"] == "/old/hook" and request["query"] == {"token": ["abc"]}
    assert request["body"]["run_id"] == "run-49" and CAUSE in request["body"]["message"]


def test_several_urls_comma_or_space_separated_all_get_it(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = f"{receiver.url(path='/a')}, {receiver.url(path='/b')} {receiver.url(path='/c')}"
    monkeypatch.setenv(ENV_ALERT_URL, urls)

    assert notify_run_outcome("run-50", GOOD_RUN, previous_run_failed=True) is True

    assert sorted(request["path"] for request in receiver.received) == ["/a", "/b", "/c"]


def test_payload_fields_set_in_the_url_win(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url() + "?:outcome=custom&:message=text")

    assert notify_run_outcome("run-51", GOOD_RUN, previous_run_failed=True) is True

    body = receiver.bodies[0]
    assert body["outcome"] == "custom"
    assert "message" not in body and "previous run failed" in body["text"]  # renamed field


def test_shopflow_run_alerts_when_a_stage_fails(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_failing_run(monkeypatch)
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    result = CliRunner().invoke(app, ["run"])

    assert result.exit_code == 1
    assert len(receiver.received) == 1
    body = receiver.bodies[0]
    assert body["stage"] == "ingest storefront" and body["outcome"] == "failed"
    assert "storefront API answered 503 twice" in body["message"]
    assert "stages_ok 0, stages_failed 1, stages_skipped 1" in body["message"]
