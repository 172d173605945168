"""Unit tests of tracking landing files by name and content (``LandingTracker``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from ingestion.sources.files.tracking import (
    STATE_KEY,
    LandingTracker,
    file_digest,
    remember_read,
)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    (tmp_path / "clickstream").mkdir()
    return tmp_path


def _write(landing: Path, name: str, text: str, mtime: float | None = None) -> Path:
    path = landing / "clickstream" / name
    path.write_text(text)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def _read_all(state: dict[str, Any], landing: Path) -> list[str]:
    """One run: the names to read, each then recorded as read."""
    tracker = LandingTracker(state, landing, "clickstream/*")
    return [file.name for file in remember_read(tracker, tracker.to_read())]


def test_new_files_are_read_whatever_their_mtime_and_unchanged_ones_never(
    landing: Path,
) -> None:
    state: dict[str, Any] = {}
    _write(landing, "events_2.jsonl", "b\n")
    assert _read_all(state, landing) == ["clickstream/events_2.jsonl"]
    _write(landing, "events_1.jsonl", "a\n", mtime=1_000_000)  # older than anything read
    _write(landing, ".events_3.jsonl", "partly written")
    assert _read_all(state, landing) == ["clickstream/events_1.jsonl"]
    assert _read_all(state, landing) == []
    entry = state[STATE_KEY]["clickstream/events_1.jsonl"]
    assert entry[0] == 2 and entry[3] == file_digest(landing / "clickstream/events_1.jsonl")


def test_a_rewrite_is_read_again_and_a_touch_only_updates_the_times(landing: Path) -> None:
    state: dict[str, Any] = {}
    path = _write(landing, "events_1.jsonl", "a\n", mtime=1_000_000)
    _read_all(state, landing)
    os.utime(path)  # touched: same content
    assert _read_all(state, landing) == []
    assert state[STATE_KEY]["clickstream/events_1.jsonl"][1] == path.stat().st_mtime_ns
    _write(landing, "events_1.jsonl", "b\n", mtime=path.stat().st_mtime)  # same size and mtime
    assert _read_all(state, landing) == ["clickstream/events_1.jsonl"]
    assert _read_all(state, landing) == []


def test_files_gone_from_the_folder_are_forgotten_and_a_moved_file_is_not_recorded(
    landing: Path, tmp_path: Path
) -> None:
    state: dict[str, Any] = {}
    kept = _write(landing, "events_1.jsonl", "a\n")
    gone = _write(landing, "events_2.jsonl", "b\n")
    _read_all(state, landing)
    gone.unlink()
    assert _read_all(state, landing) == []
    assert list(state[STATE_KEY]) == ["clickstream/events_1.jsonl"]

    quarantined = _write(landing, "events_3.jsonl", "c\n")
    tracker = LandingTracker(state, landing, "clickstream/*")
    for file in remember_read(tracker, tracker.to_read()):
        file.path.rename(tmp_path / "moved")  # what quarantining the file does
    assert list(state[STATE_KEY]) == ["clickstream/events_1.jsonl"]
    assert kept.exists() and not quarantined.exists()


def test_a_file_written_to_while_it_is_read_is_read_again_next_run(landing: Path) -> None:
    """It grew after the reader had passed its end: its digest could be of the new content,
    which would then pass for read. Not recorded, so the next run reads it whole."""
    state: dict[str, Any] = {}
    growing = _write(landing, "events_1.jsonl", "a\n")
    tracker = LandingTracker(state, landing, "clickstream/*")
    for file in remember_read(tracker, tracker.to_read()):
        assert file.path == growing
        with growing.open("a") as handle:  # a writer appends while the file is being read
            handle.write("b\n")
    assert state[STATE_KEY] == {}
    assert _read_all(state, landing) == ["clickstream/events_1.jsonl"]
    assert _read_all(state, landing) == []
