"""What the cursors and their reconciliations share: how often a reconciliation runs (every N
runs of its resource, counted in its state) and the metrics of what they flagged or repaired."""

from __future__ import annotations

from typing import Any

RUNS_STATE_KEY = "runs_since_reconciliation"
METRIC_FUTURE_STAMPED = "future_stamped"
"""The custom resource metric counting rows stamped after the source's clock (loaded, flagged)."""
METRIC_REPAIRED = "repaired"
"""The custom resource metric counting the rows a reconciliation loaded (a cursor missed)."""


def due(state: dict[str, Any], every_runs: int, key: str = RUNS_STATE_KEY) -> bool:
    """Whether this run reconciles (every ``every_runs`` runs; never when 0 or less).

    ``key`` names the state entry counting the runs, so one resource can keep two cadences.
    """
    if every_runs <= 0:
        return False
    runs = int(state.get(key, 0)) + 1
    if runs >= every_runs:
        state[key] = 0
        return True
    state[key] = runs
    return False
