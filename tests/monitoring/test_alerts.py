"""Alerts reach real receivers on 127.0.0.1 through apprise, say when a run recovered, and
never break or hold up the caller."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from typer.testing import CliRunner

from ingestion.cli import run as run_command
from ingestion.cli.app import app
from ingestion.monitoring import alerts
from ingestion.monitoring.alerts import (
    ENV_ALERT_URL,
    ENV_ALERT_WEBHOOK,
    AlertEvent,
    failed_run_event,
    notify_run_outcome,
    send_alert,
    shorten_detail,
    webhook_as_apprise_url,
)
from ingestion.stage_runner.stages import Stage, StageResult
from tests.loopback import tcp_server

CAUSE = "DbtError: dbt build failed (exit 1)"
DEADLINE = 2.0
MARGIN = 1.5  # thread start-up and a loaded CI machine; far below the 5 s socket timeouts


@dataclass
class Receiver:
    """A JSON webhook on 127.0.0.1 that records what it gets and answers with scripted codes."""

    port: int
    answers: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)

    def url(self, schema: str = "json", path: str = "/hook") -> str:
        return f"{schema}://127.0.0.1:{self.port}{path}"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [request["body"] for request in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A real http.server in a thread; answers 200 unless `answers` says otherwise."""
    state = Receiver(port=0, answers=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            parts = urlsplit(self.path)
            state.received.append(
                {
                    "path": parts.path,
                    "query": parse_qs(parts.query),
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

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def hanging_receiver() -> Iterator[int]:
    """A port that accepts connections but never answers."""
    with tcp_server() as port:
        yield port


@pytest.fixture(autouse=True)
def no_alert_urls_from_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's alert settings must never receive test alerts."""
    monkeypatch.delenv(ENV_ALERT_URL, raising=False)
    monkeypatch.delenv(ENV_ALERT_WEBHOOK, raising=False)
    monkeypatch.setattr(alerts, "RETRY_DELAY_SECONDS", 0.0)


@pytest.fixture
def run_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh dbt run_results.json where the alerts look for it."""
    path = write_run_results(tmp_path / "run_results.json")
    monkeypatch.setattr(alerts, "DBT_RUN_RESULTS", path)
    return path


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stage_results(failed_stage: str = "dbt build") -> list[StageResult]:
    return [
        StageResult("ingest", "ok", 1.0, "12 rows"),
        StageResult(failed_stage, "failed", 2.0, CAUSE),
        StageResult("dbt docs", "skipped", 0.0, "an earlier stage failed"),
    ]


GOOD_RUN = [StageResult("ingest", "ok", 1.0, "12 rows"), StageResult("dbt build", "ok", 3.0, "")]


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


def test_a_server_error_is_retried_once(receiver: Receiver) -> None:
    receiver.answers = [500]

    assert send_alert(EVENT, webhook_url=receiver.url()) is True

    assert len(receiver.received) == 2


class Remember(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_receiver_that_keeps_failing_gives_one_warning_with_the_reason(
    receiver: Receiver,
) -> None:
    """What the run's log (the root logger) shows: our one warning, with apprise's reason, and
    none of apprise's own lines ("Attempt 1/2 failed; trying again", ...)."""
    receiver.answers = [503, 500]
    seen = Remember()
    logging.getLogger().addHandler(seen)
    try:
        assert send_alert(EVENT, webhook_url=receiver.url()) is False
    finally:
        logging.getLogger().removeHandler(seen)

    assert len(receiver.received) == 2
    warnings = [record.getMessage() for record in seen.records if record.levelname == "WARNING"]
    assert len(warnings) == 1, warnings
    assert "could not deliver" in warnings[0] and "127.0.0.1" in warnings[0]
    assert "error=503" in warnings[0] and "2 attempts" in warnings[0]


def test_a_dead_port_returns_false_within_the_deadline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(alerts, "DEADLINE_SECONDS", DEADLINE)
    monkeypatch.setenv(ENV_ALERT_URL, f"json://127.0.0.1:{unused_port()}/hook")

    started = time.monotonic()
    delivered = notify_run_outcome("run-52", stage_results("ingest"), previous_run_failed=False)

    assert delivered is False
    assert time.monotonic() - started < DEADLINE + MARGIN
    assert "could not deliver" in caplog.text


def test_a_receiver_that_never_answers_returns_false_within_the_deadline(
    hanging_receiver: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(alerts, "DEADLINE_SECONDS", DEADLINE)
    monkeypatch.setenv(ENV_ALERT_URL, f"json://127.0.0.1:{hanging_receiver}/hook")

    started = time.monotonic()
    delivered = notify_run_outcome("run-53", GOOD_RUN, previous_run_failed=True)
    took = time.monotonic() - started

    assert delivered is False
    assert took < DEADLINE + MARGIN  # apprise's own read timeout (5 s) would be far later
    assert f"did not answer within {DEADLINE:.0f} s" in caplog.text


def test_an_unusable_url_is_a_warning_not_an_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(ENV_ALERT_URL, "nonsense://what")

    assert notify_run_outcome("run-54", stage_results("ingest"), previous_run_failed=False) is False

    assert "not one apprise can use" in caplog.text


def test_a_bug_while_building_the_message_never_raises(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("bug")

    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())
    monkeypatch.setattr(alerts, "failed_run_event", broken)

    assert notify_run_outcome("run-55", stage_results(), previous_run_failed=False) is False


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


EVENT = AlertEvent(
    stage="dbt build",
    what_failed=CAUSE,
    run_id="run-42",
    counts={"dbt_fail": 2, "dbt_pass": 30},
    failed_nodes=("unique_fct_orders_order_id", "not_null_dim_customers_customer_key"),
)


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


def fake_failing_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """`shopflow run` without a database: its ingest stage fails, dbt build is skipped."""

    def broken_ingestion() -> str:
        raise RuntimeError("storefront API answered 503 twice")

    monkeypatch.setattr(run_command, "ready_settings", lambda: None)
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
    monkeypatch.setenv(ENV_ALERT_URL, receiver.url())

    result = CliRunner().invoke(app, ["run"])

    assert result.exit_code == 1
    assert len(receiver.received) == 1
    body = receiver.bodies[0]
    assert body["stage"] == "ingest storefront" and body["outcome"] == "failed"
    assert "storefront API answered 503 twice" in body["message"]
    assert "stages_ok 0, stages_failed 1, stages_skipped 1" in body["message"]
