"""A delivery never breaks or holds up the caller: a server error retried once, a receiver
that keeps failing, a dead port, a receiver that never answers, an unusable URL, a bug while
building the message."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from ingestion.monitoring import alerts
from ingestion.monitoring.alerts import ENV_ALERT_URL, notify_run_outcome, send_alert
from tests.alerting import Receiver
from tests.monitoring.alerts.alert_cases import (
    DEADLINE,
    EVENT,
    GOOD_RUN,
    MARGIN,
    Remember,
    stage_results,
)
from tests.ports import free_port


def test_a_server_error_is_retried_once(receiver: Receiver) -> None:
    receiver.answers = [500]

    assert send_alert(EVENT, webhook_url=receiver.url()) is True

    assert len(receiver.received) == 2


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
    monkeypatch.setenv(ENV_ALERT_URL, f"json://127.0.0.1:{free_port()}/hook")

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
