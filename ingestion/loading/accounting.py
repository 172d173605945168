"""What one load unit did, read back from dlt's trace: rows in, loaded, rejected, quarantined.

``records in`` is counted by the resources themselves (dlt custom resource metrics);
``rows loaded`` is what dlt wrote into the (then successfully loaded) load package for the
unit's raw table, minus deletion tombstones. For every
unit ``records_in == rows_loaded + rows_rejected`` (tested).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dlt

from ingestion.sources.cursor_trust import METRIC_FUTURE_STAMPED, METRIC_REPAIRED
from ingestion.sources.validation import (
    METRIC_FILES_QUARANTINED,
    METRIC_FILES_READ,
    METRIC_RECORDS_IN,
    METRIC_REJECTED,
)

log = logging.getLogger(__name__)


@dataclass
class UnitResult:
    """The outcome of one load unit (one raw table) of one source in one run."""

    source: str
    table: str
    status: str = "ok"
    records_in: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_deleted: int = 0
    rows_repaired: int = 0
    """Rows a cursor missed that the range reconciliation loaded (ops)."""
    rows_future_stamped: int = 0
    """Rows stamped after the source's clock: loaded, and flagged here (ops)."""
    files_read: int = 0
    files_quarantined: int = 0
    seconds: float = 0.0
    load_ids: tuple[str, ...] = ()
    error: str | None = None

    @property
    def balanced(self) -> bool:
        """Whether every record read is accounted for (loaded or rejected)."""
        return self.records_in == self.rows_loaded + self.rows_rejected


def custom_metrics(pipeline: dlt.Pipeline, resources: tuple[str, ...]) -> dict[str, int]:
    """The resources' custom metrics of the last run, summed over resources and loads."""
    totals: dict[str, int] = {}
    trace = pipeline.last_trace
    extract = trace.last_extract_info if trace else None
    if extract is None:
        return totals
    for load_metrics in extract.metrics.values():
        for step in load_metrics:
            for name, metrics in step.get("resource_metrics", {}).items():
                if name not in resources:
                    continue
                for key, value in getattr(metrics, "custom_metrics", {}).items():
                    if isinstance(value, int | float) and not isinstance(value, bool):
                        totals[key] = totals.get(key, 0) + int(value)
    return totals


def rows_written(pipeline: dlt.Pipeline, table: str) -> int:
    """Rows dlt wrote into the last run's load package(s) for ``table`` (0 if nothing new).

    Read from the extract step's per-table writer metrics: the normalizer's csv writer
    counts cells rather than rows for Python dict items.
    """
    trace = pipeline.last_trace
    extract = trace.last_extract_info if trace else None
    if extract is None:
        return 0
    total = 0
    for load_metrics in extract.metrics.values():
        for step in load_metrics:
            metrics = step.get("table_metrics", {}).get(table)
            if metrics is not None:
                total += int(metrics.items_count)
    return total


def fill_from_trace(result: UnitResult, pipeline: dlt.Pipeline, resources: tuple[str, ...]) -> None:
    """Complete ``result`` from the pipeline's last trace."""
    metrics: dict[str, Any] = custom_metrics(pipeline, resources)
    result.records_in = int(metrics.get(METRIC_RECORDS_IN, 0))
    result.rows_rejected = int(metrics.get(METRIC_REJECTED, 0))
    result.files_read = int(metrics.get(METRIC_FILES_READ, 0))
    result.files_quarantined = int(metrics.get(METRIC_FILES_QUARANTINED, 0))
    result.rows_deleted = int(metrics.get("deleted", 0))
    result.rows_repaired = int(metrics.get(METRIC_REPAIRED, 0))
    result.rows_future_stamped = int(metrics.get(METRIC_FUTURE_STAMPED, 0))
    result.rows_loaded = rows_written(pipeline, result.table) - result.rows_deleted
    if not result.balanced:
        log.warning(
            "%s.%s: %d records in, %d loaded + %d rejected",
            result.source,
            result.table,
            result.records_in,
            result.rows_loaded,
            result.rows_rejected,
        )
