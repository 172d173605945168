"""Unit tests of reading events files ahead in a background thread (``EventsReadAhead``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion.sources.files import read_ahead as read_ahead_module
from ingestion.sources.files.quarantine import UnreadableFileError
from ingestion.sources.files.read_ahead import EventsReadAhead, loadable_event_chunks
from ingestion.sources.files.reading_marker import ReadingMarker
from ingestion.sources.files.tracking import LandingFile, file_stamp


def _event(event_id: str) -> str:
    return json.dumps(
        {"event_id": event_id, "timestamp": "2026-01-01T10:00:00Z", "event_name": "view"}
    )


def _listed(folder: Path, contents: dict[str, str]) -> list[LandingFile]:
    items = []
    for name, text in contents.items():
        path = folder / name
        path.write_text(text)
        items.append(LandingFile(path, f"clickstream/{name}", file_stamp(path)))
    return items


def _rows(chunks: list[tuple]) -> list[tuple[list[str], int]]:
    return [(table["event_id"].to_pylist(), len(rejects)) for table, rejects in chunks]


def test_files_read_ahead_yield_what_they_yield_when_streamed(tmp_path: Path) -> None:
    items = _listed(
        tmp_path,
        {
            "events_1.jsonl": _event("a") + "\n" + _event("b") + "\n",
            "events_2.jsonl": _event("c") + "\nnot json\n",
            "events_3.jsonl": "\x00 nothing readable\n",
            "events_4.jsonl": _event("d") + "\n",
        },
    )
    with EventsReadAhead(items, ReadingMarker(tmp_path / "quarantine", "events")) as read_ahead:
        seen = []
        for item in items:
            path, name = item.path, item.name
            try:
                got = list(read_ahead.chunks(path, name))
            except UnreadableFileError:
                with pytest.raises(UnreadableFileError):
                    list(loadable_event_chunks(path, name))
                seen.append(None)
                continue
            assert _rows(got) == _rows(list(loadable_event_chunks(path, name)))
            assert got[0][0].column_names[-2:] == ["_dlt_id", "_arrived_by"]
            seen.append(_rows(got))
    assert seen == [[(["a", "b"], 0)], [(["c"], 1)], None, [(["d"], 0)]]


def test_only_small_visible_events_files_are_read_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _listed(
        tmp_path,
        {
            "events_1.jsonl": _event("a") + "\n",
            "events_2.jsonl": _event("b") + "\n" * 200,
            "events_3.jsonl": _event("c") + "\n",
            ".events_4.jsonl": _event("d") + "\n",
        },
    )
    monkeypatch.setattr(read_ahead_module, "READ_AHEAD_BYTES", 100)
    read_whole = read_ahead_module._all_event_chunks
    read_ahead_names: list[str] = []

    def recording(path: Path, source_file: str) -> list:
        read_ahead_names.append(source_file)
        return read_whole(path, source_file)

    monkeypatch.setattr(read_ahead_module, "_all_event_chunks", recording)
    with EventsReadAhead(items, ReadingMarker(tmp_path / "quarantine", "events")) as read_ahead:
        got = [_rows(list(read_ahead.chunks(item.path, item.name))) for item in items[:3]]
    # the big second file and the hidden (partly written) fourth are never read ahead; the
    # first is, from the start
    assert read_ahead_names == ["clickstream/events_1.jsonl", "clickstream/events_3.jsonl"]
    assert got == [[(["a"], 0)], [(["b"], 0)], [(["c"], 0)]]
