"""The storefront client's total deadline per request, its retry budget and its short budget
for refused connections, against a local server that drips or goes silent, or a port nobody
listens on (no database)."""

from __future__ import annotations

import logging
import time

import pytest

from ingestion.sources.storefront.deadlines import (
    ConnectionRefusedByApiError,
    RequestDeadlineError,
    shown_url,
)
from ingestion.sources.storefront.helpers import api_client
from tests.drip_server import Drip, drip_server
from tests.ports import free_port

KEY = "unit-secret-key-123"


def client_for(
    base_url: str,
    attempts: int = 2,
    budget: float = 30.0,
    deadline: float = 0.5,
    refused_budget: float = 15.0,
):
    return api_client(
        base_url,
        KEY,
        timeout_seconds=10.0,
        max_attempts=attempts,
        backoff_factor=0.01,
        max_retry_delay_seconds=0.05,
        deadline_seconds=deadline,
        retry_budget_seconds=budget,
        refused_budget_seconds=refused_budget,
    )


@pytest.mark.parametrize("mode", ["drip_headers", "drip_body", "silent_after_headers", "mute"])
def test_an_answer_slower_than_the_deadline_is_abandoned_and_retried(mode: str) -> None:
    drip = Drip(mode=mode, delay=0.05)
    with drip_server(drip) as url:
        started = time.monotonic()
        with pytest.raises(RequestDeadlineError) as raised:
            client_for(url).get("/v1/products?limit=7")
        took = time.monotonic() - started
    message = str(raised.value)
    assert f"GET {url}/v1/products?limit=7 was abandoned" in message
    assert "past its 0.5 s deadline" in message and "given up after 2 attempts" in message
    assert KEY not in message
    assert drip.requests == 2
    assert took < 3.0  # without the deadline: minutes of drip, or the 10 s read timeout twice
    assert drip.held and max(drip.held) < 2.0  # the connection was cut, not left open


def test_the_retry_budget_stops_the_attempts_before_their_number() -> None:
    drip = Drip(mode="mute")
    with (
        drip_server(drip) as url,
        pytest.raises(RequestDeadlineError, match="given up after 2 attempts"),
    ):
        client_for(url, attempts=50, budget=0.8).get("/v1/sales")
    assert drip.requests == 2


def test_an_answer_slow_but_within_the_deadline_arrives_whole() -> None:
    drip = Drip(mode="slow", delay=0.1, chunks=3)
    with drip_server(drip) as url:
        response = client_for(url, deadline=2.0).get("/v1/products")
    assert response.status_code == 200 and response.json()["ok"] is True
    assert drip.requests == 1


def test_a_failure_after_the_deadline_is_retried_then_succeeds() -> None:
    drip = Drip(mode="drip_body", delay=0.05, fault_from=1)
    with drip_server(drip) as url:
        session_client = client_for(url, attempts=3)
        drip.fault_path = "/v1/products"
        with pytest.raises(RequestDeadlineError):
            session_client.get("/v1/products")
        assert session_client.get("/v1/sales").json()["ok"] is True


def test_the_shown_url_keeps_no_user_or_password() -> None:
    assert shown_url("http://user:pw@127.0.0.1:8600/v1/sales?x=1") == (
        "http://127.0.0.1:8600/v1/sales?x=1"
    )


def test_a_refused_connection_gives_up_after_its_own_short_budget(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens on the port: not the five minutes of the retry budget, and one line
    per retry in the log meanwhile."""
    url = f"http://127.0.0.1:{free_port()}"
    caplog.set_level(logging.WARNING, logger="ingestion.sources.storefront.deadlines")
    client = client_for(url, attempts=50, budget=300.0, refused_budget=1.0)
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedByApiError) as raised:
        client.get("/v1/products")
    took = time.monotonic() - started
    message = str(raised.value)
    assert message.startswith(f"the storefront API at {url} refused every connection for ")
    assert "is it running there?" in message and KEY not in message
    retries = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert len(retries) >= 2
    assert retries[0].startswith(f"storefront: {url}/v1/products: connection refused (attempt 1)")
    assert took < 20.0  # 50 attempts within the 300 s budget would take minutes
