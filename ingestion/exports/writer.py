"""Export files' names: the question and the UTC time of the export. They are written
atomically (``ingestion.atomic_write``): a failed query leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"


def export_path(out_dir: Path, name: str, extension: str, moment: datetime) -> Path:
    """``<out_dir>/<name>_<UTC timestamp>.<extension>``, e.g. ``open_orders_20261202T101500Z.csv``.

    ``moment`` must be timezone-aware; it is converted to UTC.
    """
    if moment.tzinfo is None:
        raise ValueError("the export time must be timezone-aware")
    stamp = moment.astimezone(UTC).strftime(TIMESTAMP_FORMAT)
    return out_dir / f"{name}_{stamp}.{extension}"
