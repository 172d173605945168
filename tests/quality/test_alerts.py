"""Alerts reach a webhook (a local HTTP receiver), retry once, and never break the caller."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ingestion.cli import run as run_command
from ingestion.cli.app import app
from ingestion.orchestration.stages import Stage, StageResult
from ingestion.quality.alerts import (
    ENV_ALERT_WEBHOOK,
    AlertEvent,
    alert_failed_run,
    failed_run_event,
    send_alert,
    shorten_detail,
)

EVENT = AlertEvent(
    stage="dbt build",
    what_failed="DbtError: dbt build failed (exit 1)",
    run_id="run-42",
    counts={"dbt_fail": 2, "dbt_pass": 30},
    failed_nodes=("unique_fct_orders_order_id", "not_null_dim_customers_customer_key"),
)


@dataclass
class Receiver:
    """A webhook on 127.0.0.1 that records what it gets and answers with scripted codes."""

    url: str
    answers: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A local HTTP receiver in a thread; answers 200 unless `answers` says otherwise."""
    state = Receiver(url="", answers=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.received.append(
                {
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"boom")

        def log_message(self, format: str, *args: Any) -> None:
            logging.getLogger("test-receiver").debug(format, *args)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def no_webhook_from_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's SHOPFLOW_ALERT_WEBHOOK must never receive test alerts."""
    monkeypatch.delenv(ENV_ALERT_WEBHOOK, raising=False)


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_payload_is_slack_text_plus_structured_fields(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_ALERT_WEBHOOK, receiver.url)

    assert send_alert(EVENT) is True

    assert len(receiver.received) == 1
    request = receiver.received[0]
    body = request["body"]
    assert request["content_type"] == "application/json"
    assert "stage 'dbt build' failed" in body["text"] and "run-42" in body["text"]
    assert "unique_fct_orders_order_id" in body["text"]
    assert body["stage"] == "dbt build"
    assert body["what_failed"] == EVENT.what_failed
    assert body["counts"] == {"dbt_fail": 2, "dbt_pass": 30}
    assert body["run_id"] == "run-42"
    assert body["failed_nodes"] == list(EVENT.failed_nodes)
    assert body["severity"] == "error" and body["sent_at"]


def test_retries_once_after_a_server_error(receiver: Receiver) -> None:
    receiver.answers = [500]

    assert send_alert(EVENT, webhook_url=receiver.url, retry_delay=0) is True

    assert len(receiver.received) == 2


def test_gives_up_after_the_retry_with_a_warning(
    receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.answers = [503, 500]

    assert send_alert(EVENT, webhook_url=receiver.url, retry_delay=0) is False

    assert len(receiver.received) == 2
    assert "could not deliver the alert" in caplog.text and "HTTP 500" in caplog.text


def test_a_client_error_is_not_retried(receiver: Receiver) -> None:
    receiver.answers = [400]

    assert send_alert(EVENT, webhook_url=receiver.url, retry_delay=0) is False

    assert len(receiver.received) == 1


def test_no_exception_when_nothing_listens(caplog: pytest.LogCaptureFixture) -> None:
    url = f"http://127.0.0.1:{unused_port()}/hook"

    assert send_alert(EVENT, webhook_url=url, timeout=1, retry_delay=0) is False

    assert "could not deliver the alert" in caplog.text


def test_nothing_is_sent_without_a_webhook(receiver: Receiver) -> None:
    assert os.environ.get(ENV_ALERT_WEBHOOK) is None

    assert send_alert(EVENT) is False

    assert receiver.received == []


def stage_results(failed_stage: str = "dbt build") -> list[StageResult]:
    return [
        StageResult("ingest", "ok", 1.0, "12 rows"),
        StageResult(failed_stage, "failed", 2.0, "DbtError: dbt build failed (exit 1)"),
        StageResult("dbt docs", "skipped", 0.0, "an earlier stage failed"),
    ]


def write_run_results(path: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": "model.shopflow.fct_orders", "status": "success"},
                    {
                        "unique_id": "test.shopflow.unique_fct_orders_order_id.1a2b",
                        "status": "fail",
                    },
                    {"unique_id": "test.shopflow.valid_email_x.3c4d", "status": "warn"},
                    {"unique_id": "model.shopflow.fct_sales", "status": "error"},
                    {"unique_id": "model.shopflow.mart_revenue", "status": "skipped"},
                ]
            }
        )
    )
    return path


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

    event = failed_run_event(stage_results(), run_results_path=run_results, since=later)

    assert event is not None and event.failed_nodes == ()
    assert set(event.counts) == {"stages_ok", "stages_failed", "stages_skipped"}
    assert event.run_id  # one is made up when the run has none


def test_no_event_when_every_stage_passed() -> None:
    assert failed_run_event([StageResult("ingest", "ok", 1.0, "fine")]) is None


def test_alert_failed_run_posts_to_the_configured_webhook(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(ENV_ALERT_WEBHOOK, receiver.url)

    assert alert_failed_run(stage_results("ingest storefront"), run_id="r2") is True

    body = receiver.received[0]["body"]
    assert body["stage"] == "ingest storefront" and body["run_id"] == "r2"
    assert body["counts"] == {"stages_ok": 1, "stages_failed": 1, "stages_skipped": 1}


def test_long_details_keep_their_first_line_and_their_end() -> None:
    detail = "dbt build failed (exit 1):\n" + "x" * 5000 + "\nDatabase Error in fct_sales"

    short = shorten_detail(detail, limit=500)

    assert len(short) <= 500
    assert short.startswith("dbt build failed") and short.endswith("in fct_sales")


def fake_failing_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """`shopflow run` without a database: its ingest stage fails, dbt build is skipped."""

    def broken_ingestion() -> str:
        raise RuntimeError("storefront API answered 503 twice")

    ready = type("Ready", (), {"settings": None})()
    monkeypatch.setattr(run_command.service, "ensure_ready", lambda: ready)
    monkeypatch.setattr(run_command, "exclusive_run", lambda settings, command, wait: nullcontext())
    monkeypatch.setattr(
        run_command,
        "pipeline_stages",
        lambda settings, options: [
            Stage("ingest storefront", "products and sales", broken_ingestion),
            Stage("dbt build", "models and tests", lambda: "done"),
        ],
    )


def test_shopflow_run_alerts_when_a_stage_fails(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_failing_run(monkeypatch)
    monkeypatch.setenv(ENV_ALERT_WEBHOOK, receiver.url)

    result = CliRunner().invoke(app, ["run"])

    assert result.exit_code == 1
    assert len(receiver.received) == 1
    body = receiver.received[0]["body"]
    assert body["stage"] == "ingest storefront"
    assert "storefront API answered 503 twice" in body["what_failed"]
    assert body["counts"] == {"stages_ok": 0, "stages_failed": 1, "stages_skipped": 1}
