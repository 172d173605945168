"""Alerts: a failed run (and the first good run after one) told to people through apprise,
never a reason for the run to fail or to hang.

`notify_run_outcome` is what `shopflow run` calls. The message (a title and a plain-text
body: run id, stage, one-sentence cause, counts, failing dbt nodes) is built here; apprise
delivers it to every URL in ``SHOPFLOW_ALERT_URL`` (Slack, Teams, e-mail, a JSON webhook
``json://``/``jsons://``, ...). ``SHOPFLOW_ALERT_WEBHOOK``, the older setting, still works: a
plain http(s) URL there becomes apprise's json/jsons URL for the same host and path (or the
native service, e.g. a Slack incoming webhook, when apprise recognises the URL). JSON receivers
also get ``outcome``, ``run_id``, ``stage`` and ``failed_nodes`` as payload fields (apprise's
``:key=value`` payload extras). A failed delivery is retried once; the whole delivery has a
deadline (``DEADLINE_SECONDS``) after which a warning is logged and the caller carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import apprise
from apprise.utils.parse import parse_urls

from ingestion.settings import ENV_ALERT_URL, read_variable
from ingestion.settings import ENV_ALERT_WEBHOOK as ENV_ALERT_WEBHOOK  # tests import it from here
from ingestion.stage_runner.stages import StageResult
from ingestion.transform.dbt_runner import target_dir
from ingestion.transform.run_results import read_run_results_file

log = logging.getLogger(__name__)
# apprise's own messages ("Attempt 1/2 failed; trying again", ...) stay out of the console and
# the run's log: deliver() reports each failed receiver in one warning, with apprise's reason
logging.getLogger("apprise").propagate = False

TIMEOUT_SECONDS = 5.0  # apprise's connect and read timeouts (cto/rto), unless a URL sets them
RETRY_DELAY_SECONDS = 1.0
DEADLINE_SECONDS = 15.0
MAX_FAILED_NODES = 20
DBT_RUN_RESULTS: Path | None = None
"""The run_results.json to report from; None: the one in dbt's target folder (tests set it)."""
STAGE_STATUSES = ("ok", "failed", "interrupted", "skipped")
RED_STATUSES = ("failed", "interrupted")
"""A stage in one of these ended the run early: the run is alerted as failed there."""
MAX_DETAIL_CHARS = 2000
MAX_CAUSE_CHARS = 300
JSON_SCHEMAS = ("json", "jsons")


@dataclass(frozen=True)
class Notice:
    """One message as apprise sends it, plus the fields a JSON receiver also gets."""

    title: str
    body: str
    notify_type: apprise.NotifyType
    fields: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Path, ...] = ()
    """Files sent with the message (e-mail receivers: ``shopflow export --mail``)."""


@dataclass(frozen=True)
class Delivery:
    """How one notice fared: how many services took it, and one sentence per receiver that
    did not (its URL masked)."""

    delivered: int
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertEvent:
    """Something that went wrong in a run, as a person on call needs to read it."""

    stage: str
    what_failed: str
    run_id: str
    counts: Mapping[str, int] = field(default_factory=dict)
    failed_nodes: Sequence[str] = ()
    severity: str = "error"

    @property
    def cause(self) -> str:
        """The first line of what failed: one sentence a person reads first."""
        first = next((line.strip() for line in self.what_failed.splitlines() if line.strip()), "")
        return first if len(first) <= MAX_CAUSE_CHARS else first[: MAX_CAUSE_CHARS - 3] + "..."

    def notice(self) -> Notice:
        lines = [f"Stage '{self.stage}' failed: {self.cause}", f"Run: {self.run_id}"]
        if self.counts:
            lines.append("Counts: " + _counts_text(self.counts))
        if self.failed_nodes:
            lines.append("Failing dbt nodes: " + ", ".join(self.failed_nodes))
        if self.what_failed.strip() != self.cause:
            lines += ["", "Details:", self.what_failed]
        return Notice(
            title=f"shopflow run {self.run_id} failed at stage '{self.stage}'",
            body="\n".join(lines),
            notify_type=apprise.NotifyType.FAILURE,
            fields={
                "outcome": "failed",
                "run_id": self.run_id,
                "stage": self.stage,
                "failed_nodes": ",".join(self.failed_nodes),
            },
        )


def recovery_notice(run_id: str, results: Sequence[StageResult]) -> Notice:
    """The notice for the first run whose every stage passed after a failed run."""
    took = sum(result.seconds for result in results)
    return Notice(
        title=f"shopflow run {run_id} recovered",
        body=(
            f"Every stage passed ({len(results)} stages, {took:.0f} s) after the previous run "
            f"failed.\nRun: {run_id}\nCounts: " + _counts_text(_stage_counts(results))
        ),
        notify_type=apprise.NotifyType.SUCCESS,
        fields={"outcome": "recovered", "run_id": run_id, "stage": "", "failed_nodes": ""},
    )


def _counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{name} {value}" for name, value in counts.items())


def _stage_counts(results: Sequence[StageResult]) -> dict[str, int]:
    seen = Counter(result.status for result in results)
    # "interrupted" only when a stage was: the usual message keeps its three counts
    return {
        f"stages_{status}": seen.get(status, 0)
        for status in STAGE_STATUSES
        if status != "interrupted" or seen.get(status)
    }


def notify_run_outcome(
    run_id: str, results: Sequence[StageResult], previous_run_failed: bool
) -> bool:
    """Failure alert when a stage failed; recovery notice when every stage passed and the
    previous run had failed; else nothing. True when a notification was delivered. Never
    raises."""
    try:
        failed = any(result.status in RED_STATUSES for result in results)
        if failed:
            # dbt's run_results.json counts only if written during this run: the stages ran
            # back to back just before this call, so the run began about their total ago
            began = time.time() - sum(result.seconds for result in results) - 2.0
            event = failed_run_event(results, run_id=run_id, since=began)
            notice = event.notice() if event is not None else None
        elif results and previous_run_failed and all(r.status == "ok" for r in results):
            notice = recovery_notice(run_id, results)
        else:
            return False
        if notice is None:
            return False
        return deliver(notice, configured_urls())
    except Exception:  # the alert must never be what breaks the run
        log.warning("could not send the run outcome notification", exc_info=True)
        return False


def configured_urls() -> list[str]:
    """Apprise URLs from ``SHOPFLOW_ALERT_URL`` and (converted) ``SHOPFLOW_ALERT_WEBHOOK``."""
    urls = list(parse_urls(read_variable(ENV_ALERT_URL)))
    webhook = read_variable(ENV_ALERT_WEBHOOK)
    if webhook:
        urls.append(webhook_as_apprise_url(webhook))
    return list(dict.fromkeys(url for url in urls if url.strip()))


def webhook_as_apprise_url(webhook: str) -> str:
    """A plain http(s) webhook as apprise's URL for it: the native service's URL when apprise
    knows the address (a Slack or Discord webhook), else json(s):// to the same host and path,
    its query parameters passed on as query parameters. Anything else is left as it is."""
    parts = urlsplit(webhook)
    if parts.scheme.lower() not in ("http", "https"):
        return webhook
    if apprise.Apprise.instantiate(webhook) is not None:
        return webhook
    schema = "jsons" if parts.scheme.lower() == "https" else "json"
    params = "&".join(
        f"-{quote(key, safe='')}={quote(value, safe='')}"
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return f"{schema}://{parts.netloc}{parts.path or '/'}" + (f"?{params}" if params else "")


def with_settings(url: str, notice: Notice, timeout: float) -> str:
    """The URL with our connect/read timeouts and, for a JSON receiver, the notice's fields
    as payload extras; whatever the URL already sets wins."""
    query = url.partition("?")[2]
    present = {key for key, _ in parse_qsl(query, keep_blank_values=True)}
    extra = {key: f"{timeout:g}" for key in ("cto", "rto") if key not in present}
    if url.split("://", 1)[0].lower() in JSON_SCHEMAS:
        extra.update(
            {f":{key}": value for key, value in notice.fields.items() if f":{key}" not in present}
        )
    if not extra:
        return url
    added = "&".join(
        f"{quote(key, safe=':')}={quote(value, safe='')}" for key, value in extra.items()
    )
    return f"{url}{'&' if '?' in url else '?'}{added}"


def deliver(
    notice: Notice,
    urls: Sequence[str],
    timeout: float | None = None,
    retry_delay: float | None = None,
    deadline: float | None = None,
) -> bool:
    """Send the notice to every URL (``send``); True once at least one took it. Never raises;
    logs a warning for each receiver that did not take it."""
    if not urls:
        log.debug("no %s set: %r not sent", ENV_ALERT_URL, notice.title)
        return False
    outcome = send(notice, urls, timeout, retry_delay, deadline)
    for problem in outcome.problems:
        log.warning("%s", problem)
    if outcome.delivered:
        log.info("%r sent to %d receiver(s)", notice.title, outcome.delivered)
    return outcome.delivered > 0


def send(
    notice: Notice,
    urls: Sequence[str],
    timeout: float | None = None,
    retry_delay: float | None = None,
    deadline: float | None = None,
    setting: str = ENV_ALERT_URL,
) -> Delivery:
    """Send the notice to every URL; never raises, never takes longer than ``deadline``
    seconds (default ``DEADLINE_SECONDS``). A URL that is unusable (``setting`` names where it
    came from), refused the notice twice or did not answer in time is a problem of the
    Delivery. ``timeout`` is apprise's connect and read timeout (default ``TIMEOUT_SECONDS``),
    ``retry_delay`` the wait before the one retry (default ``RETRY_DELAY_SECONDS``).

    Each URL is delivered by a daemon thread of its own, in which apprise works without a
    deadline or thread pool of its own: apprise's pool threads are joined when the
    interpreter exits, so a receiver that answers a byte at a time would keep the finished
    command alive; a daemon thread left behind at the deadline ends with the process."""
    limit = DEADLINE_SECONDS if deadline is None else deadline
    ends = time.monotonic() + limit  # setting apprise up counts too (it loads its plugins)
    asset = apprise.AppriseAsset(
        app_id="ShopFlow",
        app_desc="ShopFlow Analytics",
        default_service_retry=1,
        default_service_wait=RETRY_DELAY_SECONDS if retry_delay is None else retry_delay,
        service_timeout=0,  # no apprise deadline: it would hand the call to its pool
        async_mode=False,
    )
    receivers: list[apprise.Apprise] = []
    problems: list[str] = []
    for url in urls:
        services = apprise.Apprise(asset=asset)
        if services.add(with_settings(url, notice, timeout or TIMEOUT_SECONDS)):
            receivers.append(services)
            continue
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        problems.append(
            f"a URL ({scheme}://...) in {setting} is not one apprise can use: check it against "
            "https://appriseit.com/services/"
        )
    outcomes: dict[int, apprise.AppriseResult | Exception] = {}
    attach = [str(path) for path in notice.attachments] or None

    def notify(index: int, services: apprise.Apprise) -> None:
        try:
            outcomes[index] = services.notify(
                body=notice.body,
                title=notice.title,
                notify_type=notice.notify_type,
                body_format=apprise.NotifyFormat.TEXT,
                attach=attach,
            )
        except Exception as exc:  # reported below, in the caller's thread
            outcomes[index] = exc

    workers = [
        threading.Thread(target=notify, args=pair, name=f"alert-delivery-{pair[0]}", daemon=True)
        for pair in enumerate(receivers)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(ends - time.monotonic(), 0.0))
    delivered = 0
    for index, services in enumerate(receivers):
        taken, refusals = _outcome(notice, services, outcomes.get(index), limit)
        delivered += taken
        problems += refusals
    return Delivery(delivered, tuple(problems))


def _outcome(
    notice: Notice,
    services: apprise.Apprise,
    outcome: apprise.AppriseResult | Exception | None,
    limit: float,
) -> tuple[int, list[str]]:
    """How many services of one receiver took the notice, and a sentence for each that did
    not."""
    receiver = services[0].url(privacy=True).split("?")[0]  # masked; the query is noise
    if outcome is None:
        return 0, [
            f"could not deliver {notice.title!r} to {receiver}: it did not answer within "
            f"{limit:.0f} s; carrying on without it"
        ]
    if isinstance(outcome, Exception):
        return 0, [f"could not deliver {notice.title!r} to {receiver}: {outcome}"]
    problems = []
    for service in outcome:
        if service.status == apprise.AppriseResultStatus.SUCCESS:
            continue
        said = next((entry.message for entry in service.logs()), "it refused the notice")
        problem = f"{said.rstrip('.')} ({len(service)} attempts)"
        problems.append(f"could not deliver {notice.title!r} to {receiver}: {problem}")
    return int(outcome.success_count), problems


def send_alert(
    event: AlertEvent,
    webhook_url: str | None = None,
    timeout: float | None = None,
    retry_delay: float | None = None,
    deadline: float | None = None,
) -> bool:
    """Deliver one failure alert to ``webhook_url`` (apprise URLs or a plain http(s) webhook),
    by default to the configured URLs. Never raises."""
    try:
        urls = (
            [webhook_as_apprise_url(url) for url in parse_urls(webhook_url)]
            if webhook_url
            else configured_urls()
        )
        return deliver(event.notice(), urls, timeout, retry_delay, deadline)
    except Exception:
        log.warning("could not send the alert for stage %s", event.stage, exc_info=True)
        return False


def dbt_outcome(
    run_results_path: Path | None = None, since: float | None = None
) -> tuple[dict[str, int], list[str]]:
    """Counts of node statuses and the failing nodes of dbt's last invocation (default: the
    run_results.json of dbt's target folder).

    Empty when run_results.json is missing, unreadable, or older than `since` (a Unix time),
    so a stale file from an earlier invocation is never reported as this run's.
    """
    path = run_results_path or DBT_RUN_RESULTS or target_dir() / "run_results.json"
    try:
        if since is not None and path.stat().st_mtime < since:
            return {}, []
    except OSError:
        return {}, []
    results = read_run_results_file(path)
    if results is None:
        return {}, []
    failed = [node.name.split(" ", 1)[-1] for node in results.failed]
    return results.counts(), failed


def shorten_detail(detail: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """The detail as is when short, else its first line and its end (where errors are)."""
    if len(detail) <= limit:
        return detail
    first_line = detail.splitlines()[0][:200]
    return f"{first_line}\n...\n{detail[-(limit - len(first_line) - 5) :]}"


def failed_run_event(
    results: Sequence[StageResult],
    run_id: str,
    run_results_path: Path | None = None,
    since: float | None = None,
) -> AlertEvent | None:
    """The alert for a run whose stage failed (None when every stage passed).

    For a dbt stage the counts and failing nodes come from dbt's run_results.json (if written
    after `since`); otherwise they count the stages.
    """
    failed = next((result for result in results if result.status in RED_STATUSES), None)
    if failed is None:
        return None
    counts = _stage_counts(results)
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
        run_id=run_id,
        counts=counts,
        failed_nodes=tuple(failed_nodes),
    )
