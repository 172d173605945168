"""Alerts: a JSON message to a webhook when a run fails, never a reason for the run to fail.

`send_alert` POSTs an `AlertEvent` to the URL in ``SHOPFLOW_ALERT_WEBHOOK`` (nothing is sent
when it is unset). The payload is Slack-compatible (a `text` line an incoming webhook shows
as is) and carries structured fields for any other receiver: stage, what failed, counts, run
id and the failing dbt nodes. A failed delivery (no listener, timeout, 5xx, 429) is retried
once; after that a warning is logged and the caller carries on. The whole delivery, retry
included, has a deadline (``DEADLINE_SECONDS``): httpx's timeouts apply per read, so a
receiver answering a byte at a time would otherwise hold the run for as long as it likes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ingestion.orchestration.stages import StageResult
from ingestion.settings import REPO_ROOT

log = logging.getLogger(__name__)

ENV_ALERT_WEBHOOK = "SHOPFLOW_ALERT_WEBHOOK"
TIMEOUT_SECONDS = 5.0
RETRY_DELAY_SECONDS = 1.0
DEADLINE_SECONDS = 15.0
MAX_FAILED_NODES = 20
DBT_RUN_RESULTS = REPO_ROOT / "target" / "run_results.json"
FAILED_NODE_STATUSES = ("error", "fail")
STAGE_STATUSES = ("ok", "failed", "skipped")
MAX_DETAIL_CHARS = 2000


@dataclass(frozen=True)
class AlertEvent:
    """Something that went wrong in a run, as a person on call needs to read it."""

    stage: str
    what_failed: str
    run_id: str
    counts: Mapping[str, int] = field(default_factory=dict)
    failed_nodes: Sequence[str] = ()
    severity: str = "error"

    def text(self) -> str:
        """One Slack-ready line (with the failing nodes below it)."""
        counts = ", ".join(f"{name} {value}" for name, value in self.counts.items())
        line = f":rotating_light: shopflow run {self.run_id}: stage '{self.stage}' failed"
        line += f" ({counts})" if counts else ""
        line += f"\n{self.what_failed}"
        if self.failed_nodes:
            line += "\nfailing: " + ", ".join(self.failed_nodes)
        return line

    def payload(self) -> dict[str, Any]:
        """The JSON body: Slack's `text` plus the same facts as fields."""
        return {
            "text": self.text(),
            "project": "shopflow",
            "severity": self.severity,
            "stage": self.stage,
            "what_failed": self.what_failed,
            "counts": dict(self.counts),
            "failed_nodes": list(self.failed_nodes),
            "run_id": self.run_id,
            "sent_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }


def _worth_retrying(status_code: int) -> bool:
    return status_code >= 500 or status_code == 429


def send_alert(
    event: AlertEvent,
    webhook_url: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
    retry_delay: float = RETRY_DELAY_SECONDS,
    deadline: float | None = None,
) -> bool:
    """POST the event to the webhook (default: $SHOPFLOW_ALERT_WEBHOOK); True once delivered.

    Never raises and never takes longer than ``deadline`` seconds (default
    ``DEADLINE_SECONDS``): without a webhook it does nothing; a delivery that fails twice, is
    refused with a 4xx (which a retry would not change) or runs out of time is logged as a
    warning.
    """
    url = webhook_url or os.environ.get(ENV_ALERT_WEBHOOK, "").strip()
    if not url:
        log.debug("no %s set: alert for stage %s not sent", ENV_ALERT_WEBHOOK, event.stage)
        return False
    try:
        body = json.dumps(event.payload(), default=str)
    except (TypeError, ValueError) as exc:
        log.warning("alert for stage %s could not be serialised: %s", event.stage, exc)
        return False
    limit = DEADLINE_SECONDS if deadline is None else deadline
    ends_at = time.monotonic() + limit
    client = httpx.Client()
    problems: list[str | None] = []
    # a thread, because only a thread can be left behind when the receiver stalls: httpx
    # enforces its timeouts per read, not per request
    worker = threading.Thread(
        target=lambda: problems.append(
            _deliver(client, url, body, event.stage, timeout, retry_delay, ends_at)
        ),
        name="alert-delivery",
        daemon=True,
    )
    worker.start()
    worker.join(limit)
    if worker.is_alive():
        log.warning(
            "could not deliver the alert for stage %s: the webhook did not answer within "
            "%.0f s; carrying on without it",
            event.stage,
            limit,
        )
        _abandon(client)
        return False
    client.close()
    problem = problems[0] if problems else "the delivery thread ended without an answer"
    if problem is None:
        return True
    log.warning("could not deliver the alert for stage %s to the webhook: %s", event.stage, problem)
    return False


def _deliver(
    client: httpx.Client,
    url: str,
    body: str,
    stage: str,
    timeout: float,
    retry_delay: float,
    ends_at: float,
) -> str | None:
    """Up to two attempts, the retry only if time is left before ``ends_at``; None once
    delivered, else what went wrong."""
    problem = "not attempted"
    for attempt in (1, 2):
        try:
            response = client.post(
                url,
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=max(min(timeout, ends_at - time.monotonic()), 0.1),
            )
        except httpx.HTTPError as exc:
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.is_success:
                log.info("alert for stage %s sent (attempt %d)", stage, attempt)
                return None
            problem = f"HTTP {response.status_code}: {response.text[:200]}"
            if not _worth_retrying(response.status_code):
                break
        if attempt == 1:
            if time.monotonic() + retry_delay >= ends_at:
                break
            log.info("alert delivery failed (%s); retrying once", problem)
            time.sleep(retry_delay)
    return problem


def _abandon(client: httpx.Client) -> None:
    """Close a client whose request is still hanging, so its socket does not linger."""
    try:
        client.close()
    except Exception:  # closing under a running request may complain; the alert is given up
        log.debug("closing the stalled alert delivery failed", exc_info=True)


def dbt_outcome(
    run_results_path: Path = DBT_RUN_RESULTS, since: float | None = None
) -> tuple[dict[str, int], list[str]]:
    """Counts of node statuses and the failing nodes of dbt's last invocation.

    Empty when run_results.json is missing, unreadable, or older than `since` (a Unix time),
    so a stale file from an earlier invocation is never reported as this run's.
    """
    try:
        if since is not None and run_results_path.stat().st_mtime < since:
            return {}, []
        results = json.loads(run_results_path.read_text())["results"]
    except (OSError, ValueError, KeyError) as exc:
        log.debug("no dbt run results to report: %s", exc)
        return {}, []
    counts = Counter(str(result.get("status")) for result in results)
    failed = [
        result["unique_id"].split(".")[2]
        for result in results
        if result.get("status") in FAILED_NODE_STATUSES and result.get("unique_id", "").count(".")
    ]
    return dict(sorted(counts.items())), failed


def shorten_detail(detail: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """The detail as is when short, else its first line and its end (where errors are)."""
    if len(detail) <= limit:
        return detail
    first_line = detail.splitlines()[0][:200]
    return f"{first_line}\n...\n{detail[-(limit - len(first_line) - 5) :]}"


def failed_run_event(
    results: Sequence[StageResult],
    run_id: str | None = None,
    run_results_path: Path = DBT_RUN_RESULTS,
    since: float | None = None,
) -> AlertEvent | None:
    """The alert for a run whose stage failed (None when every stage passed).

    For a dbt stage the counts and failing nodes come from dbt's run_results.json (if written
    after `since`); otherwise they count the stages.
    """
    failed = next((result for result in results if result.status == "failed"), None)
    if failed is None:
        return None
    stage_counts = Counter(result.status for result in results)
    counts = {f"stages_{status}": stage_counts.get(status, 0) for status in STAGE_STATUSES}
    failed_nodes: list[str] = []
    if failed.name.startswith("dbt"):
        dbt_counts, failed_nodes = dbt_outcome(run_results_path, since)
        counts.update({f"dbt_{status}": value for status, value in dbt_counts.items()})
    if len(failed_nodes) > MAX_FAILED_NODES:
        more = len(failed_nodes) - MAX_FAILED_NODES
        failed_nodes = [*failed_nodes[:MAX_FAILED_NODES], f"... and {more} more"]
    return AlertEvent(
        stage=failed.name,
        what_failed=shorten_detail(failed.detail),
        run_id=run_id or uuid.uuid4().hex[:12],
        counts=counts,
        failed_nodes=tuple(failed_nodes),
    )


def alert_failed_run(
    results: Sequence[StageResult], run_id: str | None = None, since: float | None = None
) -> bool:
    """Send the alert for a failed run, if a stage failed and a webhook is set; never raises."""
    try:
        event = failed_run_event(results, run_id=run_id, since=since)
    except Exception:  # the alert must never be what breaks the run
        log.warning("could not build the failure alert", exc_info=True)
        return False
    return send_alert(event) if event is not None else False
