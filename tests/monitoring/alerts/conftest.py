"""What every alert test gets: no alert setting of the caller, no pause between attempts; and
the receivers and files some of them need."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.monitoring import alerts
from ingestion.monitoring.alerts import ENV_ALERT_URL, ENV_ALERT_WEBHOOK
from tests.loopback import tcp_server
from tests.monitoring.alerts.alert_cases import write_run_results


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
