"""Run named stages in order, time each, and stop at the first failure or interruption."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ingestion.interrupts import RunInterrupted, received_signal, signal_name
from ingestion.root_cause import root_cause

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageOutcome:
    """What a stage did: a one-line summary, and dbt's invocation id for a dbt stage."""

    detail: str
    dbt_invocation_id: str | None = None


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    action: Callable[[], StageOutcome | str]
    """Does the work and returns a one-line summary of what it did."""


@dataclass(frozen=True)
class StageResult:
    name: str
    status: str  # "ok", "failed", "interrupted" (by a signal) or "skipped"
    seconds: float
    detail: str
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    dbt_invocation_id: str | None = None
    keep_going: bool = False
    """A failure that leaves the stages after it able to run (an ingest where only some
    tables failed: dbt builds what does not depend on them); the run still ends red."""


def run_stages(
    stages: Sequence[Stage],
    on_start: Callable[[Stage], None] | None = None,
    on_finish: Callable[[StageResult], None] | None = None,
) -> list[StageResult]:
    """Run each stage in order; after a failure or an interruption the remaining ones are
    reported as skipped.

    A failure's detail is one sentence with its root cause (the traceback goes to the debug
    log); a signal (``RunInterrupted``) ends the stage under way as ``interrupted``. ``on_finish``
    hears of every stage, run or skipped; the caller leaves with the signal's exit code."""
    results: list[StageResult] = []
    stopped: StageResult | None = None
    for stage in stages:
        if stopped is not None:
            why = "an earlier stage failed" if stopped.status == "failed" else "the run was stopped"
            result = StageResult(stage.name, "skipped", 0.0, why)
        else:
            if on_start is not None:
                on_start(stage)
            result = _run_one(stage)
            # a signal some code swallowed still stops the run (a second one would be ignored)
            if (result.status != "ok" and not result.keep_going) or received_signal():
                stopped = result
        results.append(result)
        if on_finish is not None:
            on_finish(result)
    return results


def _run_one(stage: Stage) -> StageResult:
    started_at = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    invocation_id: str | None = None
    keep_going = False
    try:
        outcome = stage.action()
        if isinstance(outcome, str):
            outcome = StageOutcome(outcome)
        detail, status, invocation_id = outcome.detail, "ok", outcome.dbt_invocation_id
    except Exception as exc:  # a stage failure is reported, not raised
        log.debug("stage %s failed", stage.name, exc_info=True)
        detail, status = root_cause(exc), "failed"
        invocation_id = getattr(exc, "invocation_id", None)
        keep_going = bool(getattr(exc, "keep_going", False))
    except RunInterrupted as exc:
        log.warning("stage %s %s", stage.name, exc)
        detail, status = f"{exc} during the stage", "interrupted"
    signum = received_signal()
    if status == "failed" and signum is not None:
        # the signal's exception was turned into another one inside the stage: it is still
        # what stopped the stage
        detail = f"interrupted by {signal_name(signum)} during the stage ({detail})"
        status, keep_going = "interrupted", False
    return StageResult(
        stage.name,
        status,
        time.perf_counter() - started,
        detail,
        started_at=started_at,
        finished_at=dt.datetime.now(dt.UTC),
        dbt_invocation_id=invocation_id,
        keep_going=keep_going,
    )
