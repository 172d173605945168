"""Export files: timestamped UTC names, and atomic writes that leave nothing when they fail."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

import pytest

from ingestion.atomic_write import write_atomically
from ingestion.exports.writer import export_path

MOMENT = datetime(2026, 12, 2, 10, 15, 0, tzinfo=UTC)


def test_the_name_carries_the_utc_time_of_the_export(tmp_path: Path) -> None:
    assert export_path(tmp_path, "open_orders", "csv", MOMENT) == (
        tmp_path / "open_orders_20261202T101500Z.csv"
    )
    paris = MOMENT.astimezone(timezone(timedelta(hours=1)))
    assert export_path(tmp_path, "open_orders", "parquet", paris).name == (
        "open_orders_20261202T101500Z.parquet"
    )


def test_a_naive_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        export_path(tmp_path, "open_orders", "csv", datetime(2026, 12, 2, 10, 15))


def test_a_complete_write_lands_under_its_name_and_nothing_else(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "open_orders_20261202T101500Z.csv"

    def write(stream: BinaryIO) -> int:
        stream.write(b"order_id\n1\n")
        return 1

    assert write_atomically(target, write) == 1
    assert target.read_bytes() == b"order_id\n1\n"
    assert list(target.parent.iterdir()) == [target]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failing_write_leaves_no_file_behind(tmp_path: Path) -> None:
    target = tmp_path / "open_orders_20261202T101500Z.csv"

    def write(stream: BinaryIO) -> int:
        stream.write(b"order_id\n1\n2\n")  # part of the rows, then the query fails
        raise RuntimeError("the query failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        write_atomically(target, write)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "open_orders_20261202T101500Z.csv"
    target.write_bytes(b"order_id\n1\n")

    def write(stream: BinaryIO) -> None:
        stream.write(b"order_id\n")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, write)
    assert target.read_bytes() == b"order_id\n1\n"
    assert list(tmp_path.iterdir()) == [target]
