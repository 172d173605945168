"""The files source's bounds, landing boundary and reading marker, as pure logic."""

from __future__ import annotations

import io
import json
import os
from contextlib import suppress
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.sources.files.bounds import (
    BoundExceededError,
    bounded_lines,
    check_value,
    nesting_depth,
)
from ingestion.sources.files.event_rows import pack_extras
from ingestion.sources.files.landing_boundary import landing_problem, refusal_of
from ingestion.sources.files.reading_marker import ReadingMarker
from ingestion.sources.files.settings import MAX_KEYS_PER_OBJECT, MAX_VALUE_CHARS
from ingestion.sources.files.tracking import LandingTracker
from ingestion.sources.validation import MAX_PAYLOAD_CHARS, to_payload_text


def test_a_long_line_comes_back_as_its_prefix_and_the_next_line_whole() -> None:
    data = b"a" * 25 + b"\n" + b"b" * 10 + b"\n" + b"c" * 3
    assert list(bounded_lines(io.BytesIO(data), limit=10)) == [
        (b"a" * 10, False),
        (b"b" * 10 + b"\n", True),
        (b"ccc", True),
    ]


@pytest.mark.parametrize(
    ("line", "depth"),
    [
        (b'{"a": [1, {"b": 2}]}', 3),
        (b'{"a": "[[[[[[{{{{"}', 1),  # brackets inside a string do not count
        (b'{"a": "\\"[[[["}', 1),  # nor after an escaped quote
        (b"[" * 50 + b"]" * 50, 50),
        (b"", 0),
    ],
)
def test_nesting_depth_counts_structure_outside_strings(line: bytes, depth: int) -> None:
    assert nesting_depth(line) == depth


def test_keys_and_text_length_are_bounded_anywhere_in_a_value() -> None:
    check_value({"a": [{"b": "x" * MAX_VALUE_CHARS}]})
    with pytest.raises(BoundExceededError, match="MAX_VALUE_CHARS"):
        check_value({"a": [{"b": "x" * (MAX_VALUE_CHARS + 1)}]})
    with pytest.raises(BoundExceededError, match="MAX_KEYS_PER_OBJECT"):
        check_value({"a": {str(n): n for n in range(MAX_KEYS_PER_OBJECT + 1)}})


def test_only_a_regular_file_with_one_name_is_read(tmp_path: Path) -> None:
    regular = tmp_path / "a.jsonl"
    regular.write_text("{}\n")
    assert refusal_of(regular, regular.lstat()) is None
    link = tmp_path / "link.jsonl"
    link.symlink_to(regular)
    assert "symbolic link" in str(refusal_of(link, link.lstat()))
    os.link(regular, tmp_path / "second.jsonl")
    assert "2 hard links" in str(refusal_of(regular, regular.lstat()))
    pipe = tmp_path / "pipe.jsonl"
    os.mkfifo(pipe)
    assert "named pipe" in str(refusal_of(pipe, pipe.lstat()))
    folder = tmp_path / "events_x.jsonl"
    folder.mkdir()
    assert "directory" in str(refusal_of(folder, folder.lstat()))


def test_a_landing_folder_that_is_a_file_is_one_sentence(tmp_path: Path) -> None:
    assert landing_problem(tmp_path) is None
    assert landing_problem(tmp_path / "missing") is None  # created on first use
    (tmp_path / "landing").write_text("x")
    problem = str(landing_problem(tmp_path / "landing"))
    assert problem.endswith(".") and problem.count(". ") == 0 and "SHOPFLOW_LANDING_DIR" in problem


def test_a_marker_left_behind_names_the_file_once(tmp_path: Path) -> None:
    marker = ReadingMarker(tmp_path, "events")
    with marker, marker.reading("clickstream/a.jsonl"):
        assert json.loads(marker.path.read_text())["file"] == "clickstream/a.jsonl"
    assert marker.left_by_crash() is None  # ended in Python: removed
    marker.path.write_text(json.dumps({"file": "clickstream/b.jsonl", "run": "R"}))
    marker.fatal_path.write_text("Fatal Python error: Segmentation fault\n\nThread ...\n")
    [name, reason] = marker.left_by_crash() or ("", "")
    assert name == "clickstream/b.jsonl"
    assert "in the run of R (Fatal Python error: Segmentation fault)" in reason
    assert marker.left_by_crash() is None


def test_a_death_without_a_fatal_signal_is_read_again_once(tmp_path: Path) -> None:
    """A SIGKILL (an operator, the OOM killer) leaves no traceback: one retry, then quarantine."""
    marker = ReadingMarker(tmp_path, "events")
    marker.path.parent.mkdir(parents=True)
    marker.path.write_text(json.dumps({"file": "clickstream/c.jsonl", "run": "R1"}))
    assert marker.left_by_crash() is None
    left = ""
    with suppress(KeyboardInterrupt), marker, marker.reading("clickstream/c.jsonl"):
        left = marker.path.read_text()
        raise KeyboardInterrupt  # stands for the second kill: the marker stays as written
    assert left, "the marker was written while reading"
    marker.path.write_text(left)
    [name, reason] = marker.left_by_crash() or ("", "")
    assert name == "clickstream/c.jsonl" and "the process died 2 times while parsing it" in reason


def test_unknown_columns_are_packed_into_one_json_column() -> None:
    table = pa.table(
        {
            "event_id": ["a", "b"],
            "user_identifiers__locale": ["de", None],
            "campaign": [None, 5],
        }
    )
    packed = pack_extras(table)
    assert packed.column_names == ["event_id", "extra_properties"]
    assert [
        None if v is None else json.loads(v) for v in packed["extra_properties"].to_pylist()
    ] == [
        {"user_identifiers": {"locale": "de"}},
        {"campaign": 5},
    ]


def test_a_stored_payload_is_a_bounded_prefix() -> None:
    text = to_payload_text("x" * (MAX_PAYLOAD_CHARS * 3))
    assert text.startswith("x" * MAX_PAYLOAD_CHARS)
    assert text.endswith(f"[{MAX_PAYLOAD_CHARS * 2} more characters not kept]")
    assert to_payload_text({"a": 1}) == '{"a": 1}'


def test_a_resource_folder_that_is_a_link_is_refused_whole(tmp_path: Path) -> None:
    """Its files would lie outside the landing folder: none is listed, the link is refused."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "events_1.jsonl").write_text("{}\n")
    landing = tmp_path / "landing"
    landing.mkdir()
    (landing / "clickstream").symlink_to(outside)
    [entry] = LandingTracker({}, landing, "clickstream/*").to_read()
    assert entry.name == "clickstream" and "symbolic link" in str(entry.refused)
