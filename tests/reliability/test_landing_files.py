"""Landing files survive a bad night: none skipped for good, no value that freezes the source.

Each test breaks a delivery on purpose (an old modification time, a rewrite in place, a lost
local dlt folder, a crash between extract and load, a value Postgres would refuse, a line
separator inside a value, a repeated spend key) and asserts the promise: every record read
is loaded or rejected (with the file and line in the reason), the next file still loads, and
the raw tables hold what a clean run of the same files gives.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.loading.registry import SOURCES
from ingestion.loading.runner import IngestReport
from ingestion.loading.runtime import make_pipeline, pipelines_dir
from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import IngestWorld, private_world
from tests.reliability.landing_lines import event, line

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

EVENT_COLUMNS = (
    "event_id, timestamp, event_name, user_identifiers__platform, user_identifiers__id,"
    " product_information__name, product_information__sku, order_id, source_file"
)
SPEND_COLUMNS = "date, channel, campaign, spend, currency, impressions, clicks, source_file"
SPEND_HEADER = "date,channel,campaign,spend,currency,impressions,clicks\n"
A_YEAR = 365 * 24 * 3600


@pytest.fixture
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    with private_world(server_settings, tmp_path_factory.mktemp("landing-faults")) as created:
        yield created


def drop(world: IngestWorld, name: str, lines: list[bytes]) -> Path:
    """Write a landing file (``clickstream/...`` or ``marketing_spend/...``) of ``lines``."""
    path = world.landing / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(item + b"\n" for item in lines))
    return path


def spend_file(world: IngestWorld, name: str, rows: list[str]) -> Path:
    return drop(
        world,
        f"marketing_spend/{name}",
        [SPEND_HEADER.strip().encode()] + [row.encode() for row in rows],
    )


def ingest(world: IngestWorld) -> IngestReport:
    """Ingest the files source; every unit loads and accounts for every record it read."""
    report = world.ingest("files")
    assert report.ok, report.units
    for unit in report.units:
        assert unit.balanced, unit
    return report


def unit(report: IngestReport, table: str) -> tuple[int, int, int, int]:
    """(records in, loaded, rejected, files read) of one table's unit."""
    found = next(u for u in report.units if u.table == table)
    return found.records_in, found.rows_loaded, found.rows_rejected, found.files_read


def content_digest(world: IngestWorld, table: str, columns: str) -> tuple[int, str]:
    """Row count and an order-independent digest of the named columns (not dlt's ids)."""
    row = world.query(
        f"select count(*), coalesce(md5(string_agg(md5(r::text), '' order by md5(r::text))), '')"
        f" from (select {columns} from raw_files.{table}) as r"
    )[0]
    return int(row[0]), str(row[1])


def raw_digests(world: IngestWorld) -> dict[str, tuple[int, str]]:
    tables = ("events", "marketing_spend", "rejected_records", "quarantined_files")
    return {table: world.table_digest(f"raw_files.{table}") for table in tables}


def reasons(world: IngestWorld, file_name: str) -> list[str]:
    """The reasons of the rejected records of one landing file."""
    return [
        row[0]
        for row in world.query(
            "select reason from raw_files.rejected_records"
            f" where reason like '{file_name} %' order by reason"
        )
    ]


def rows_from(world: IngestWorld, table: str, file_name: str) -> int:
    return int(
        world.scalar(f"select count(*) from raw_files.{table} where source_file = '{file_name}'")
    )


# --- files tracked by name and content ----------------------------------------------------


def test_files_are_read_by_name_and_content_whatever_their_modification_time(
    world: IngestWorld, server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    drop(world, "clickstream/events_a.jsonl", [line(event(f"a-{n}")) for n in range(3)])
    spend_file(world, "spend_a.csv", ["2026-01-01,web,brand,10.00,USD,100,5"])
    ingest(world)

    # a file arriving with a modification time a year older than any read so far (mv, rsync -a)
    old = drop(world, "clickstream/events_b.jsonl", [line(event(f"b-{n}")) for n in range(2)])
    os.utime(old, (time.time() - A_YEAR, time.time() - A_YEAR))
    report = ingest(world)
    assert unit(report, "events") == (2, 2, 0, 1)
    assert rows_from(world, "events", "clickstream/events_b.jsonl") == 2

    # rewritten in place with new rows, its modification time put back (cp -p, unzip)
    rewritten = world.landing / "clickstream/events_a.jsonl"
    stamp = rewritten.stat()
    drop(world, "clickstream/events_a.jsonl", [line(event(f"a-{n}")) for n in range(5)])
    os.utime(rewritten, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    # a spend correction of the same size and modification time: only the content differs
    spend = world.landing / "marketing_spend/spend_a.csv"
    spend_stamp = spend.stat()
    spend_file(world, "spend_a.csv", ["2026-01-01,web,brand,12.50,USD,100,5"])
    os.utime(spend, ns=(spend_stamp.st_atime_ns, spend_stamp.st_mtime_ns))
    assert spend.stat().st_size == spend_stamp.st_size
    report = ingest(world)
    assert unit(report, "events")[3] == 1 and unit(report, "marketing_spend")[3] == 1
    assert rows_from(world, "events", "clickstream/events_a.jsonl") == 5
    assert world.query("select spend::text from raw_files.marketing_spend") == [("12.500000000",)]

    # no change, then every file touched (same content, new times): nothing read, nothing moves
    before = raw_digests(world)
    for touched in (False, True):
        if touched:
            for path in world.landing.rglob("*.*"):
                os.utime(path)
        report = ingest(world)
        assert [unit(report, t) for t in ("events", "marketing_spend")] == [(0, 0, 0, 0)] * 2
        assert raw_digests(world) == before

    # the raw tables hold what one clean run of the same files gives
    with private_world(server_settings, tmp_path / "clean") as clean:
        shutil.copytree(world.landing, clean.landing, dirs_exist_ok=True)
        ingest(clean)
        for table, columns in (("events", EVENT_COLUMNS), ("marketing_spend", SPEND_COLUMNS)):
            assert content_digest(world, table, columns) == content_digest(clean, table, columns)


def test_what_was_read_is_restored_from_the_warehouse_when_the_local_folder_is_gone(
    world: IngestWorld,
) -> None:
    drop(world, "clickstream/events_a.jsonl", [line(event(f"a-{n}")) for n in range(3)])
    drop(world, "clickstream/events_b.jsonl", [line(event("b-0")), b'{"event_id": "b-'])
    spend_file(world, "spend_a.csv", ["2026-01-01,web,brand,10.00,USD,100,5"])
    ingest(world)
    before = raw_digests(world)
    shutil.rmtree(pipelines_dir(world.settings))
    report = ingest(world)
    assert unit(report, "events") == (0, 0, 0, 0)
    assert raw_digests(world) == before


def test_a_crash_between_extract_and_load_never_marks_a_file_read_for_good(
    world: IngestWorld,
) -> None:
    spec = SOURCES["files"]

    def extract_only() -> None:
        """What a run does before it dies: the events extracted, nothing loaded."""
        pipeline = make_pipeline(spec.name, spec.dataset, world.settings)
        source = spec.build(world.context()).with_resources("events")
        pipeline.extract(source, loader_file_format="csv")

    ingest(world)  # the schema and its state exist, as on any night but the first
    drop(world, "clickstream/events_a.jsonl", [line(event(f"a-{n}")) for n in range(3)])
    extract_only()
    # the next run finishes the pending package first; nothing is read or loaded twice
    ingest(world)
    ingest(world)
    assert world.query("select count(*), count(distinct event_id) from raw_files.events") == [
        (3, 3)
    ]

    # the crashed run's local folder is lost with its package: the file is read again
    drop(world, "clickstream/events_b.jsonl", [line(event(f"b-{n}")) for n in range(2)])
    extract_only()
    shutil.rmtree(pipelines_dir(world.settings))
    report = ingest(world)
    assert unit(report, "events")[3] == 1
    assert rows_from(world, "events", "clickstream/events_b.jsonl") == 2


# --- values Postgres would refuse ---------------------------------------------------------

POISONED_EVENTS = {
    "not-utf8": (line(event("bad", event_name="view")).replace(b"view", b"vi\xffew"), "UTF-8"),
    "nul-escaped": (line(event("bad", event_name="a\u0000b")), "NUL character"),
    "nul-byte": (line(event("bad")).replace(b"view", b"vi\x00ew"), "not valid JSON"),
    "unpaired-surrogate": (line(event("bad")).replace(b"view", b"\\ud800"), "surrogate"),
    "year-10000": (line(event("bad", timestamp="10000-01-01T00:00:00Z")), "9999-12-31"),
    "year-0": (line(event("bad", timestamp="0000-06-01T00:00:00Z")), "9999-12-31"),
    "negative-year": (line(event("bad", timestamp="-0044-03-15T00:00:00Z")), "9999-12-31"),
    "utc-before-year-1": (line(event("bad", timestamp="0001-01-01T00:30:00+01:00")), "0001-01-01"),
    "order-id-beyond-bigint": (line(event("bad", order_id=2**64)), "bigint"),
}


@pytest.mark.parametrize("fault", sorted(POISONED_EVENTS))
def test_an_event_postgres_would_refuse_is_rejected_and_the_source_keeps_loading(
    world: IngestWorld, fault: str
) -> None:
    bad, expected = POISONED_EVENTS[fault]
    bad = bad.replace(b'"bad"', f'"{fault}-bad"'.encode())
    name = f"clickstream/events_{fault}.jsonl"
    drop(world, name, [line(event(f"{fault}-1")), bad, line(event(f"{fault}-3"))])
    report = ingest(world)
    assert unit(report, "events") == (3, 2, 1, 1)
    assert rows_from(world, "events", name) == 2
    [reason] = reasons(world, name)
    assert reason.startswith(f"{name} line 2: ") and expected in reason, reason
    assert world.scalar("select count(*) from raw_files.rejected_records where raw_payload <> ''")
    # the source is not frozen: the next file loads
    after = f"clickstream/events_{fault}_after.jsonl"
    drop(world, after, [line(event(f"{fault}-after"))])
    assert unit(ingest(world), "events") == (1, 1, 0, 1)
    assert rows_from(world, "events", after) == 1


def test_a_parquet_event_beyond_the_timestamp_range_is_rejected_with_its_row(
    world: IngestWorld,
) -> None:
    seconds = pa.array([1_767_261_600, 400_000_000_000, 1_767_261_601], type=pa.timestamp("s"))
    table = pa.table(
        {"event_id": ["pq-1", "pq-2", "pq-3"], "timestamp": seconds, "event_name": ["view"] * 3}
    )
    (world.landing / "clickstream").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, world.landing / "clickstream/events_far.parquet")
    assert unit(ingest(world), "events") == (3, 2, 1, 1)
    [reason] = reasons(world, "clickstream/events_far.parquet")
    assert reason.startswith("clickstream/events_far.parquet row 2: timestamp"), reason


POISONED_SPEND = {
    "spend-1e30": ("2026-01-02,web,brand,1e30,USD,100,5", "numeric(38,9)"),
    "impressions-beyond-bigint": (
        "2026-01-02,web,brand,1.00,USD,9223372036854775808,5",
        "bigint",
    ),
    "nul-in-campaign": ("2026-01-02,web,bra\x00nd,1.00,USD,100,5", "NUL character"),
}


@pytest.mark.parametrize("fault", sorted(POISONED_SPEND))
def test_a_spend_value_postgres_would_refuse_is_rejected_and_the_source_keeps_loading(
    world: IngestWorld, fault: str
) -> None:
    bad, expected = POISONED_SPEND[fault]
    name = f"marketing_spend/spend_{fault}.csv"
    spend_file(
        world,
        f"spend_{fault}.csv",
        ["2026-01-01,web,brand,10.00,USD,100,5", bad, "2026-01-03,web,brand,3.00,USD,100,5"],
    )
    report = ingest(world)
    assert unit(report, "marketing_spend") == (3, 2, 1, 1)
    assert rows_from(world, "marketing_spend", name) == 2
    [reason] = reasons(world, name)
    assert reason.startswith(f"{name} line 3: ") and expected in reason, reason
    # the limit checked is the column's type in the warehouse
    assert world.query(
        "select numeric_precision, numeric_scale from information_schema.columns where"
        " table_schema = 'raw_files' and table_name = 'marketing_spend' and column_name = 'spend'"
    ) == [(38, 9)]
    spend_file(world, f"spend_{fault}_after.csv", ["2026-01-04,web,brand,4.00,USD,100,5"])
    assert unit(ingest(world), "marketing_spend") == (1, 1, 0, 1)


# --- smaller items ------------------------------------------------------------------------


def test_a_line_separator_inside_a_value_splits_no_event(world: IngestWorld) -> None:
    separators = "\u2028 \u2029 \x85 \x0b \x0c \x1c"
    valid = [
        json.dumps(event("sep-1", event_name=f"view{separators}"), ensure_ascii=False).encode(),
        json.dumps(event("sep-2", product_information={"name": "a\u2028b"}), ensure_ascii=False)
        .encode()
        .replace(b"\\u2028", "\u2028".encode()),
        line(event("sep-4")),
    ]
    name = "clickstream/events_separators.jsonl"
    drop(world, name, [valid[0], valid[1], b'{"event_id": "sep-3", "timest', valid[2]])
    assert unit(ingest(world), "events") == (4, 3, 1, 1)
    [reason] = reasons(world, name)
    assert reason.startswith(f"{name} line 3: not valid JSON"), reason
    assert world.query(
        "select event_id, event_name, product_information__name from raw_files.events"
        " where event_id like 'sep-%' order by 1"
    ) == [
        ("sep-1", f"view{separators}", "Tent"),
        ("sep-2", "view", "a\u2028b"),
        ("sep-4", "view", "Tent"),
    ]


def test_a_spend_key_repeated_in_one_file_is_rejected_not_dropped(world: IngestWorld) -> None:
    name = "marketing_spend/spend_repeated.csv"
    spend_file(
        world,
        "spend_repeated.csv",
        [
            "2026-01-01,web,brand,10.00,USD,100,5",
            "2026-01-01,app,brand,20.00,USD,200,6",
            "2026-01-01,web,brand,99.00,USD,900,9",
        ],
    )
    assert unit(ingest(world), "marketing_spend") == (3, 2, 1, 1)
    [reason] = reasons(world, name)
    assert reason.startswith(f"{name} line 4: repeats the date, channel, campaign of line 2")
    assert world.query(
        "select channel, spend::text from raw_files.marketing_spend order by channel"
    ) == [("app", "20.000000000"), ("web", "10.000000000")]


def test_a_file_name_that_is_not_utf8_is_quarantined_and_the_rest_loads(
    world: IngestWorld,
) -> None:
    odd = world.landing / "clickstream" / os.fsdecode(b"events_\xff.jsonl")
    odd.parent.mkdir(parents=True, exist_ok=True)
    odd.write_bytes(line(event("odd-1")) + b"\n")
    drop(world, "clickstream/events_fine.jsonl", [line(event("fine-1"))])
    report = ingest(world)
    assert unit(report, "events") == (1, 1, 0, 2)
    assert not odd.exists()
    [(file_name, reason)] = world.query("select file_name, reason from raw_files.quarantined_files")
    assert file_name == "clickstream/events_\\udcff.jsonl" and "not UTF-8" in reason
    assert rows_from(world, "events", "clickstream/events_fine.jsonl") == 1
