"""Unit tests of what Postgres would refuse, checked before the load, and of the line reader."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.sources.files.event_rows import parse_timestamps
from ingestion.sources.files.helpers import event_chunks
from ingestion.sources.files.storable import (
    bigint_problem,
    numeric_problem,
    storable_text,
    text_problem,
    timestamp_problem,
)


def test_numeric_limits_are_those_of_numeric_38_9_after_rounding() -> None:
    assert numeric_problem(Decimal("99999999999999999999999999999.999999999")) is None
    assert numeric_problem(Decimal("-1.0000000001")) is None  # Postgres rounds it
    for refused in ("1e30", "1e29", "99999999999999999999999999999.9999999995", "-1e29"):
        assert numeric_problem(Decimal(refused)) is not None, refused


def test_bigint_text_and_timestamp_limits() -> None:
    assert bigint_problem(2**63 - 1) is None and bigint_problem(-(2**63)) is None
    assert bigint_problem(2**63) is not None and bigint_problem(-(2**63) - 1) is not None
    assert text_problem("a\u2028b é") is None
    assert "NUL" in str(text_problem("a\x00b"))
    assert "surrogate" in str(text_problem("a\ud800"))
    assert storable_text("a\x00b\udcff") == "a\\x00b\\udcff"
    plus_one = dt.timezone(dt.timedelta(hours=1))
    assert timestamp_problem(dt.datetime(1, 1, 1, 0, 30, tzinfo=plus_one)) is not None
    assert timestamp_problem(dt.datetime(1, 1, 1, 1, 30, tzinfo=plus_one)) is None


def test_timestamps_outside_0001_to_9999_become_null_in_any_unit() -> None:
    text = pa.chunked_array(
        [["2026-01-01T10:00:00Z", "0000-06-01T00:00:00Z", "10000-01-01T00:00:00Z", None]]
    )
    assert parse_timestamps(text).is_null().to_pylist() == [False, True, True, True]
    seconds = pa.chunked_array([pa.array([0, 400_000_000_000, -70_000_000_000], pa.timestamp("s"))])
    assert parse_timestamps(seconds).is_null().to_pylist() == [False, True, True]
    # nanoseconds finer than the column keeps are cut, not an error
    nanos = pa.chunked_array([pa.array([1_767_261_600_123_456_789], pa.timestamp("ns"))])
    assert parse_timestamps(nanos).cast(pa.int64()).to_pylist() == [1_767_261_600_123_456]


def _event(event_id: str, **changes: object) -> str:
    value = {"event_id": event_id, "timestamp": "2026-01-01T10:00:00Z", "event_name": "view"}
    return json.dumps({**value, **changes}, ensure_ascii=False)


def test_line_numbers_count_every_line_and_only_newline_ends_one(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    lines = [
        _event("a", event_name="x\u2028y\u2029z\x85"),
        "",
        _event("b", timestamp="0000-01-01T00:00:00Z"),
        '{"event_id": "c", "timest',
        _event("d"),
    ]
    path.write_bytes("\r\n".join(lines).encode() + b"\r\n")
    [(table, rejects)] = list(event_chunks(path, "clickstream/events.jsonl"))
    assert table["event_id"].to_pylist() == ["a", "d"]
    assert table["event_name"].to_pylist()[0] == "x\u2028y\u2029z\x85"
    assert [reason.split(":")[0] for reason, _ in rejects] == [
        "clickstream/events.jsonl line 3",
        "clickstream/events.jsonl line 4",
    ]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (
            b'{"event_id": "x", "event_name": "vi\xffew", "timestamp": "2026-01-01T10:00:00Z"}',
            "UTF-8",
        ),
        (_event("x", event_name="a\x00b").encode(), "NUL"),
        (_event("x", order_id=2**64).encode(), "bigint"),
    ],
)
def test_a_line_postgres_would_refuse_is_rejected_with_its_line(
    tmp_path: Path, bad: bytes, reason: str
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join([_event("a").encode(), bad, _event("c").encode()]) + b"\n")
    [(table, rejects)] = list(event_chunks(path, "f.jsonl"))
    assert table["event_id"].to_pylist() == ["a", "c"]
    [(text, payload)] = rejects
    assert text.startswith("f.jsonl line 2: ") and reason in text, text
    assert text_problem(payload) is None
