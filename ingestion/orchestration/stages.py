"""Run named stages in order, time each, and stop at the first failure."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stage:
    name: str
    description: str
    action: Callable[[], str]
    """Does the work and returns a one-line summary of what it did."""


@dataclass(frozen=True)
class StageResult:
    name: str
    status: str  # "ok", "failed" or "skipped"
    seconds: float
    detail: str


def run_stages(
    stages: Sequence[Stage], on_start: Callable[[Stage], None] | None = None
) -> list[StageResult]:
    """Run each stage in order; after a failure the remaining ones are reported as skipped."""
    results: list[StageResult] = []
    failed = False
    for stage in stages:
        if failed:
            results.append(StageResult(stage.name, "skipped", 0.0, "an earlier stage failed"))
            continue
        if on_start is not None:
            on_start(stage)
        started = time.perf_counter()
        try:
            detail = stage.action()
            status = "ok"
        except Exception as exc:  # a stage failure is reported, not raised
            log.debug("stage %s failed", stage.name, exc_info=True)
            detail = f"{type(exc).__name__}: {exc}"
            status = "failed"
            failed = True
        results.append(StageResult(stage.name, status, time.perf_counter() - started, detail))
    return results
