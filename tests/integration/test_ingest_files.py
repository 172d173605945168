"""The landing-zone files source: quarantine, rejects, duplicates, drift, files read once.

Faults that used to skip a file or freeze the source: ``tests/reliability/test_landing_files.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.landing import FileFaults, write_landing_files
from ingestion.sources.files.settings import EVENT_COLUMN_TYPES
from tests.integration.ingest_support import IngestWorld, simulated_world

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ALL_FAULTS = FileFaults(
    truncated_json=True, wrong_columns=True, bad_date=True, duplicate_file=True, late_file=True
)


@pytest.fixture(scope="module")
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    with simulated_world(server_settings, tmp_path_factory.mktemp("files")) as created:
        write_landing_files(created.settings, faults=ALL_FAULTS, landing=created.landing)
        yield created


def _deliver_events(world: IngestWorld, file_name: str, events: list[dict]) -> None:
    """Drop ``events`` as one JSON-lines file in the landing zone and ingest the files."""
    lines = "".join(json.dumps(event) + "\n" for event in events)
    (world.landing / "clickstream" / file_name).write_text(lines)
    report = world.ingest("files")
    assert report.ok, report.units


def test_bad_files_are_quarantined_bad_rows_rejected_and_the_rest_loads(
    world: IngestWorld,
) -> None:
    report = world.ingest("files")
    assert report.ok, report.units
    for unit in report.units:
        assert unit.balanced, unit
    quarantine = world.landing.parent / "quarantine"
    moved = sorted(p.relative_to(quarantine).as_posix() for p in quarantine.rglob("*.csv"))
    assert len(moved) == 1 and moved[0].startswith("marketing_spend/")
    reason = (quarantine / (moved[0] + ".reason")).read_text()
    assert "wrong columns" in reason
    assert not (world.landing / moved[0]).exists()
    assert world.query("select file_name from raw_files.quarantined_files") == [(moved[0],)]
    rejected = dict(
        world.query("select resource, count(*) from raw_files.rejected_records group by 1")
    )
    # the truncated line, in the original and in the duplicate delivery; the impossible date
    assert rejected == {"events": 2, "marketing_spend": 1}
    # the duplicate delivery (``..._2.jsonl``) arrives in the same run: its events are
    # dropped before the load, so each id is loaded (and counted) once
    events = next(u for u in report.units if u.table == "events")
    assert world.query("select count(*), count(distinct event_id) from raw_files.events") == [
        (events.rows_loaded, events.rows_loaded)
    ]
    repeated = duplicate_ids(world)
    assert repeated
    in_table = f"select count(*) from raw_files.events where event_id = any({sql_array(repeated)})"
    assert world.scalar(in_table) == len(repeated)


def duplicate_ids(world: IngestWorld) -> list[str]:
    """Event ids of the duplicate delivery (``..._2.jsonl``), from the lines that parse."""
    ids = []
    for path in (world.landing / "clickstream").glob("*_2.jsonl"):
        for line in path.read_text().splitlines():
            try:
                ids.append(json.loads(line)["event_id"])
            except (json.JSONDecodeError, KeyError):
                continue
    return ids


def sql_array(values: list[str]) -> str:
    """A Postgres text array literal of simple values (ids without quotes)."""
    return "array[" + ", ".join(f"'{v}'" for v in values) + "]"


def test_events_are_flattened_per_the_contract(world: IngestWorld) -> None:
    columns = [
        r[0]
        for r in world.query(
            "select column_name from information_schema.columns where table_schema = "
            "'raw_files' and table_name = 'events' order by ordinal_position"
        )
    ]
    assert columns[: len(EVENT_COLUMN_TYPES)] == list(EVENT_COLUMN_TYPES)
    assert (
        world.scalar(
            "select count(*) from raw_files.events "
            "where event_name = 'purchase' and order_id is null"
        )
        == 0
    )


def test_files_are_read_once_unless_they_change_and_never_double_rows(
    world: IngestWorld,
) -> None:
    tables = ("raw_files.events", "raw_files.marketing_spend", "raw_files.rejected_records")
    before = {t: world.table_digest(t) for t in tables}
    report = world.ingest("files")
    assert report.ok
    assert sum(u.files_read for u in report.units) == 0
    assert {t: world.table_digest(t) for t in tables} == before
    # the same drop delivered again: new modification times, same content. Files are
    # tracked by content, so only the one quarantined (moved away) last time is read again
    write_landing_files(world.settings, faults=ALL_FAULTS, landing=world.landing)
    again = world.ingest("files")
    assert again.ok
    assert sum(u.files_read for u in again.units) == 1
    assert sum(u.files_quarantined for u in again.units) == 1
    assert {t: world.table_digest(t) for t in tables} == before


def test_a_redelivered_event_keeps_its_first_row_and_only_new_ids_are_inserted(
    world: IngestWorld,
) -> None:
    base = {"timestamp": "2026-01-02T10:00:00Z", "user_identifiers": {"platform": "web"}}
    first = {**base, "event_id": "again-1", "event_name": "view"}
    _deliver_events(world, "events_20260102_7.jsonl", [first])
    # the same id again (changed, which an immutable event must not be) and a new one
    later = [
        {**first, "event_name": "purchase"},
        {**base, "event_id": "again-2", "event_name": "view"},
    ]
    _deliver_events(world, "events_20260103_7.jsonl", later)
    assert world.query(
        "select event_id, event_name, source_file from raw_files.events"
        " where event_id like 'again-%' order by 1"
    ) == [
        ("again-1", "view", "clickstream/events_20260102_7.jsonl"),
        ("again-2", "view", "clickstream/events_20260103_7.jsonl"),
    ]


def test_a_new_field_in_events_lands_in_extra_properties_never_a_new_column(
    world: IngestWorld,
) -> None:
    event = {
        "event_id": "drift-0001",
        "timestamp": "2026-01-01T10:00:00Z",
        "event_name": "view",
        "user_identifiers": {"platform": "web", "id": "1"},
        "product_information": {"name": "Thing", "SKU": "SKU-000001"},
        "order_id": None,
        "campaign_code": "spring",
        "utm-source": "newsletter",
    }
    event["user_identifiers"]["locale"] = "de"  # type: ignore[index]
    _deliver_events(world, "events_20260101_9.jsonl", [event])
    assert world.query(
        "select extra_properties::jsonb, product_information__sku from raw_files.events "
        "where event_id = 'drift-0001'"
    ) == [
        (
            {
                "campaign_code": "spring",
                "utm-source": "newsletter",
                "user_identifiers": {"locale": "de"},
            },
            "SKU-000001",
        )
    ]
    columns = world.query(
        "select column_name from information_schema.columns"
        " where table_schema = 'raw_files' and table_name = 'events'"
    )
    assert not {("campaign_code",), ("utm_source",), ("user_identifiers__locale",)} & set(columns)


def test_a_new_event_field_of_any_type_lands_so_later_values_never_clash(
    world: IngestWorld,
) -> None:
    base = {"timestamp": "2026-01-01T10:00:00Z", "event_name": "view"}
    _deliver_events(world, "events_20260101_6.jsonl", [{**base, "event_id": "clash-1", "score": 5}])
    later = [
        {**base, "event_id": "clash-2", "score": "high"},
        {**base, "event_id": "clash-3", "score": [1, True]},
    ]
    _deliver_events(world, "events_20260102_6.jsonl", later)
    assert world.query(
        "select event_id, extra_properties::jsonb -> 'score' from raw_files.events"
        " where event_id like 'clash-%' order by 1"
    ) == [("clash-1", 5), ("clash-2", "high"), ("clash-3", [1, True])]


def test_event_timestamps_land_exactly_as_timestamptz(world: IngestWorld) -> None:
    """Events reach COPY with their timestamp as UTC text; the column stays timestamptz."""
    events = [
        {"event_id": "tz-0001", "timestamp": "2026-01-01T23:30:00.123456+02:00"},
        {"event_id": "tz-0002", "timestamp": "2026-03-29T01:00:00Z"},
    ]
    _deliver_events(world, "events_20260101_8.jsonl", [{**e, "event_name": "view"} for e in events])
    assert world.query(
        "select data_type from information_schema.columns"
        " where table_schema = 'raw_files' and table_name = 'events' and column_name = 'timestamp'"
    ) == [("timestamp with time zone",)]
    utc = dt.UTC
    assert world.query(
        "select event_id, timestamp from raw_files.events"
        " where event_id like 'tz-%' order by event_id"
    ) == [
        ("tz-0001", dt.datetime(2026, 1, 1, 21, 30, 0, 123456, tzinfo=utc)),
        ("tz-0002", dt.datetime(2026, 3, 29, 1, 0, tzinfo=utc)),
    ]
