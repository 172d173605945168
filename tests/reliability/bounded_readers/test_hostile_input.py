"""Readers that bound their input, and the landing folder's boundary (issue 21, classes 3, 4).

Every case asserts that the run succeeds, that the bad entry is quarantined (or its bad line
rejected) with a reason naming the bound or the refusal, that the next run has nothing left to
fail on and nobody has to delete anything, and that the raw tables hold exactly what the clean
run of the good files gave (plus the good lines a partly bad file brings)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.sources.validation import MAX_PAYLOAD_CHARS
from tests.reliability.bounded_readers.landing import (
    GOOD_FILES,
    SECRET,
    SPEND_HEADER,
    Landing,
    quarantined_once,
    settled,
)
from tests.reliability.landing_lines import event, line

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


def deep(levels: int, kind: str) -> str:
    if kind == "arrays":
        return "[" * levels + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


LINE_CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    # one events line nested 100,000 arrays deep: a segmentation fault on every run before
    "arrays 100,000 deep": (
        lambda: b'{"event_id": "x", "nest": ' + deep(100_000, "arrays").encode() + b"}",
        "nested 100001 levels deep, beyond the limit of 16 (MAX_JSON_DEPTH)",
    ),
    "objects 100,000 deep": (
        lambda: deep(100_000, "objects").encode(),
        "(MAX_JSON_DEPTH)",
    ),
    "a 50 MB line": (
        lambda: line(event("long", event_name="v" * (50 << 20))),
        "longer than the 1048576-byte line limit (MAX_LINE_BYTES)",
    ),
    "a value of 100,000 characters": (
        lambda: line(event("wide", event_name="v" * 100_000)),
        "a text value of 100000 characters, beyond the limit of 65536 (MAX_VALUE_CHARS)",
    ),
    "2,000 extra keys (TooManyColumns before)": (
        lambda: line(event("keys", **{f"k{n}": n for n in range(2_000)})),
        "an object has 2006 keys, beyond the limit of 1000 (MAX_KEYS_PER_OBJECT)",
    ),
}


@pytest.mark.parametrize("case", list(LINE_CASES))
def test_a_hostile_events_line_is_rejected_naming_its_bound(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]], case: str
) -> None:
    content, bound = LINE_CASES[case]
    name = f"clickstream/events_bad_{list(LINE_CASES).index(case)}.jsonl"
    good = line(event(f"{name}-good"))
    landing.drop(name, good + b"\n" + content() + b"\n")
    if "deep" in case:  # crashed the process before: in a subprocess, so a regression fails
        landing.ingest_cli()
    else:
        assert landing.world.ingest("files").ok
    [(reason, payload)] = landing.rejected(name)
    assert reason.startswith(f"{name} line 2: ") and bound in reason, reason
    assert len(payload) <= MAX_PAYLOAD_CHARS + 100
    loaded = f"select event_id from raw_files.events where source_file = '{name}'"
    assert landing.world.query(loaded) == [(f"{name}-good",)]
    settled(landing, clean, leaving_out=name)


def test_unexpected_keys_land_in_one_json_column_never_as_new_columns(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]]
) -> None:
    columns = "select count(*) from information_schema.columns where table_name = 'events'"
    before = landing.world.scalar(columns)
    extra = {f"k{n}": n for n in range(300)}
    name = "clickstream/events_extra.jsonl"
    landing.drop(name, line(event("extra", **extra, nest={"a": [1, {"b": 2}]})) + b"\n")
    report = landing.world.ingest("files")
    assert report.ok and landing.world.scalar(columns) == before
    stored = landing.world.scalar(
        "select extra_properties::jsonb from raw_files.events where event_id = 'extra'"
    )
    assert stored == {**extra, "nest": {"a": [1, {"b": 2}]}}
    settled(landing, clean, leaving_out=name)


def _symlink_out(landing: Landing) -> str:
    name = "clickstream/events_credentials.jsonl"
    (landing.world.landing / name).symlink_to(landing.outside / "credentials.json")
    return name


def _symlink_in(landing: Landing) -> str:
    name = "clickstream/events_again.jsonl"
    (landing.world.landing / name).symlink_to(landing.world.landing / GOOD_FILES[0])
    return name


def _hard_link_out(landing: Landing) -> str:
    name = "marketing_spend/spend_credentials.csv"
    os.link(landing.outside / "credentials.json", landing.world.landing / name)
    return name


def _directory(landing: Landing) -> str:
    name = "clickstream/events_x.jsonl"
    (landing.world.landing / name).mkdir()
    (landing.world.landing / name / "inside.jsonl").write_bytes(line(event("in-dir")) + b"\n")
    return name


def _spend_columns(landing: Landing) -> str:
    name = "marketing_spend/spend_wide.csv"
    header = SPEND_HEADER + "," + ",".join(f"c{n}" for n in range(10_000 - 7))
    landing.drop(name, f"{header}\n2026-01-02,web,wide,1,EUR,1,1\n".encode())
    return name


def _spend_huge_field(landing: Landing) -> str:
    name = "marketing_spend/spend_huge.csv"
    landing.drop(name, f"{SPEND_HEADER}\n2026-01-02,web,{'x' * (100 << 20)},1,EUR,1,1\n".encode())
    return name


def _spend_wide_field(landing: Landing) -> str:
    name = "marketing_spend/spend_field.csv"
    landing.drop(name, f'{SPEND_HEADER}\n2026-01-02,web,"{"y" * 100_000}",1,EUR,1,1\n'.encode())
    return name


def _parquet_columns(landing: Landing) -> str:
    name = "clickstream/events_wide.parquet"
    path = landing.world.landing / name
    columns = {"event_id": ["wide-1"], **{f"c{n}": [n] for n in range(5_000)}}
    pq.write_table(pa.table(columns), path)
    return name


ENTRY_CASES: dict[str, tuple[Callable[[Landing], str], str]] = {
    "a symbolic link to the credentials file": (_symlink_out, "links are never followed"),
    "a symbolic link to a file inside the folder": (_symlink_in, "links are never followed"),
    "a hard link to the credentials file": (_hard_link_out, "2 hard links"),
    "a directory named events_x.jsonl": (_directory, "a directory named like a file"),
    "a csv with 10,000 columns": (_spend_columns, "10000 columns, beyond the limit of 100"),
    "a csv field of 100 MB": (_spend_huge_field, "line 2: the line is longer than the 1048576"),
    "a csv field of 100,000 characters": (_spend_wide_field, "limit of 65536 characters"),
    "a parquet file with 5,000 columns": (_parquet_columns, "5001 columns, beyond the limit"),
}


@pytest.mark.parametrize("case", list(ENTRY_CASES))
def test_a_hostile_entry_is_quarantined_unread_naming_why(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]], case: str
) -> None:
    make, why = ENTRY_CASES[case]
    name = make(landing)
    report = landing.world.ingest("files")
    assert report.ok, report.units
    quarantined_once(landing, name, why)
    stored = landing.world.query(
        "select coalesce(string_agg(reason || coalesce(raw_payload, ''), ''), '')"
        " from raw_files.rejected_records"
    )[0][0] + "".join(landing.quarantined(name))
    assert SECRET not in stored
    assert json.loads((landing.outside / "credentials.json").read_text()) == {"password": SECRET}
    settled(landing, clean)


def test_a_fifo_is_quarantined_without_being_opened(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]]
) -> None:
    name = "clickstream/events_pipe.jsonl"
    os.mkfifo(landing.world.landing / name)
    landing.ingest_cli(timeout=120)  # opening the pipe would block the run: the timeout fails
    quarantined_once(landing, name, "a named pipe (FIFO)")
    settled(landing, clean)
