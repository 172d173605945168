"""Each fault switch puts in exactly the fault it names, and nothing else changes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from ingestion.simulators.world import FileFaults, LandingDrop, write_landing_files
from ingestion.simulators.world.marketing_spend import SPEND_COLUMNS
from tests.simulators.world.support import World

pytestmark = pytest.mark.integration

LAST_EVENTS = "clickstream/events_20251231_1.jsonl"
LAST_SPEND = "marketing_spend/spend_20251231.csv"
FIRST_SPEND = "marketing_spend/spend_20250101.csv"


def drop(world: World, tmp_path: Path, **faults: bool) -> tuple[Path, LandingDrop]:
    result = write_landing_files(world.settings, faults=FileFaults(**faults), landing=tmp_path)
    return tmp_path, result


def unparseable_lines(path: Path) -> int:
    bad = 0
    for line in path.read_text().splitlines():
        try:
            json.loads(line)
        except json.JSONDecodeError:
            bad += 1
    return bad


def test_no_faults_by_default(world: World, tmp_path: Path) -> None:
    root, result = drop(world, tmp_path)

    assert result.faults == ()
    assert sum(unparseable_lines(root / name) for name in result.event_files) == 0
    assert not (root / "clickstream/events_20251231_2.jsonl").exists()


def test_the_same_drop_is_written_byte_for_byte_again(world: World, tmp_path: Path) -> None:
    root, _ = drop(world, tmp_path)

    for path in root.rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (world.landing / path.relative_to(root)).read_bytes()


def test_truncated_json_cuts_one_line(world: World, tmp_path: Path) -> None:
    root, result = drop(world, tmp_path, truncated_json=True)

    assert unparseable_lines(root / LAST_EVENTS) == 1
    clean = (world.landing / LAST_EVENTS).read_text().splitlines()
    assert len((root / LAST_EVENTS).read_text().splitlines()) == len(clean)
    assert len(result.faults) == 1 and "truncated_json" in result.faults[0]


def test_wrong_columns_renames_the_last_spend_header(world: World, tmp_path: Path) -> None:
    root, _ = drop(world, tmp_path, wrong_columns=True)

    header = (root / LAST_SPEND).read_text().splitlines()[0].split(",")
    assert header != list(SPEND_COLUMNS) and len(header) == len(SPEND_COLUMNS)
    assert (root / FIRST_SPEND).read_text().splitlines()[0] == ",".join(SPEND_COLUMNS)


def test_bad_date_puts_one_impossible_date_in_a_spend_file(world: World, tmp_path: Path) -> None:
    root, _ = drop(world, tmp_path, bad_date=True)

    with (root / FIRST_SPEND).open(newline="") as handle:
        dates = [row["date"] for row in csv.DictReader(handle)]
    assert dates.count("2025-02-30") == 1
    assert set(dates) - {"2025-02-30"} == {"2025-01-01"}


def test_duplicate_file_delivers_identical_content_under_a_second_name(
    world: World, tmp_path: Path
) -> None:
    root, result = drop(world, tmp_path, duplicate_file=True)

    second = root / "clickstream/events_20251231_2.jsonl"
    assert second.read_bytes() == (root / LAST_EVENTS).read_bytes()
    assert str(second.relative_to(root)) in result.event_files


def test_late_file_holds_events_dated_before_the_last_drop(world: World, tmp_path: Path) -> None:
    root, _ = drop(world, tmp_path, late_file=True)

    late = [json.loads(line) for line in (root / "clickstream/events_20251231_3.jsonl").open()]
    assert late
    assert all("2025-12-25" <= row["timestamp"] < "2025-12-30" for row in late)
    assert all(row["event_name"] != "purchase" for row in late)
