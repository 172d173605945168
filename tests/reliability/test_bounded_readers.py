"""Readers that bound their input, and the landing folder's boundary (issue 21, classes 3, 4).

One world for the module: a clean ingestion of a few good files first (the reference), then
each case drops its hostile entry beside them and ingests again. Every case asserts that the
run succeeds, that the bad entry is quarantined (or its bad line rejected) with a reason
naming the bound or the refusal, that the next run has nothing left to fail on and nobody
has to delete anything, and that the raw tables hold exactly what the clean run of the good
files gave (plus the good lines a partly bad file brings). Cases that could crash or hang
the reader run `shopflow` in a subprocess, so a regression fails the test, not pytest.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingestion.settings import ConnectionSettings
from ingestion.sources.files.reading_marker import MARKER_FOLDER
from ingestion.sources.validation import MAX_PAYLOAD_CHARS
from tests.integration.ingest_support import IngestWorld, private_world
from tests.reliability.landing_lines import event, line
from tests.reliability.support import CliWorld, shopflow_command

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SECRET = "pw-" + "7f3b9c1e5a"
"""Stands for the warehouse password in the local credentials file a link points at."""
SPEND_HEADER = "date,channel,campaign,spend,currency,impressions,clicks"
GOOD_FILES = ("clickstream/events_20260101_1.jsonl", "marketing_spend/spend_20260101.csv")


@dataclass(frozen=True)
class Landing:
    world: IngestWorld
    cli: CliWorld
    outside: Path
    """A folder beside the landing folder holding the 'credentials' file."""
    partly_good: set[str] = field(default_factory=set)
    """Files of earlier cases whose good lines loaded (each case checks them itself)."""

    @property
    def quarantine(self) -> Path:
        return self.world.landing.parent / "quarantine"

    def drop(self, name: str, content: bytes) -> Path:
        path = self.world.landing / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def events_table(self) -> tuple[int, str]:
        """Row count and digest of the events loaded (dlt's ids and load ids left out), but
        those of the ``partly_good`` files."""
        left_out = ", ".join(f"'{name}'" for name in self.partly_good) or "''"
        return self._digest(
            "select event_id, timestamp, event_name, user_identifiers__platform,"
            " user_identifiers__id, product_information__name, product_information__sku,"
            " order_id, extra_properties, source_file from raw_files.events"
            f" where source_file not in ({left_out})"
        )

    def spend_table(self) -> tuple[int, str]:
        return self._digest(
            "select date, channel, campaign, spend, currency, impressions, clicks, source_file"
            " from raw_files.marketing_spend"
        )

    def _digest(self, query: str) -> tuple[int, str]:
        row = self.world.query(
            "select count(*), coalesce(md5(string_agg(md5(r::text), '' order by md5(r::text))),"
            f" '') from ({query}) as r"
        )[0]
        return int(row[0]), str(row[1])

    def quarantined(self, name: str) -> list[str]:
        return [
            r[0]
            for r in self.world.query(
                f"select reason from raw_files.quarantined_files where file_name = '{name}'"
            )
        ]

    def rejected(self, name: str) -> list[tuple[str, str]]:
        return [
            (r[0], r[1])
            for r in self.world.query(
                "select reason, raw_payload from raw_files.rejected_records"
                f" where reason like '{name} %'"
            )
        ]

    def ingest_cli(self, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        done = self.cli.run("ingest", "files", timeout=timeout)
        assert done.returncode == 0, done.stdout + done.stderr
        return done


@pytest.fixture(scope="module")
def landing(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Landing]:
    root = tmp_path_factory.mktemp("bounded-readers")
    with private_world(server_settings, root) as world:
        outside = root / "outside"
        outside.mkdir()
        (outside / "credentials.json").write_text(json.dumps({"password": SECRET}) + "\n")
        yield Landing(world, CliWorld(world.settings, world.landing.parent), outside)


@pytest.fixture(scope="module")
def clean(landing: Landing) -> tuple[tuple[int, str], tuple[int, str]]:
    """The clean run of the good files: the events and spend every case must leave."""
    landing.drop(GOOD_FILES[0], b"\n".join(line(event(f"good-{n}")) for n in range(3)) + b"\n")
    rows = [f"2026-01-01,web,spring,{n}.50,EUR,100,{n}" for n in range(2)]
    rows[1] = rows[1].replace("spring", "summer")
    landing.drop(GOOD_FILES[1], "\n".join([SPEND_HEADER, *rows, ""]).encode())
    assert landing.world.ingest("files").ok
    return landing.events_table(), landing.spend_table()


def settled(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]], leaving_out: str = ""
) -> None:
    """The promise after a case: raw equals the clean run (but for the good lines of the file
    ``leaving_out``), and the next run has nothing to do: no file read, nothing new
    quarantined or rejected."""
    if leaving_out:
        landing.partly_good.add(leaving_out)
    assert (landing.events_table(), landing.spend_table()) == clean
    count = (
        "select (select count(*) from raw_files.quarantined_files),"
        " (select count(*) from raw_files.rejected_records),"
        " (select count(*) from raw_files.events)"
    )
    counts = landing.world.query(count)
    report = landing.world.ingest("files")
    assert report.ok, report.units
    assert sum(unit.files_read for unit in report.units) == 0
    assert landing.world.query(count) == counts


def quarantined_once(landing: Landing, name: str, bound: str) -> None:
    """``name`` was quarantined once, unread, with a reason naming ``bound``, and moved."""
    [reason] = landing.quarantined(name)
    assert bound in reason, reason
    assert not os.path.lexists(landing.world.landing / name)
    assert os.path.lexists(landing.quarantine / name)


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


def slow_file(landing: Landing, name: str, lines: int, first: int = 0) -> Path:
    """An events file slow to parse (every event has a new key: read line by line)."""
    path = landing.world.landing / name
    with path.open("a") as handle:
        for number in range(first, first + lines):
            handle.write(json.dumps({**event(f"{name}-{number}"), "k": number}) + "\n")
    return path


def while_parsing(landing: Landing, name: str, act: Callable[[int], None]) -> int:
    """Start `shopflow ingest files`, call ``act`` with its pid while the reading marker names
    ``name``, and return the command's exit code."""
    marker = landing.quarantine / MARKER_FOLDER / "events.json"
    process = subprocess.Popen(
        shopflow_command("ingest", "files"),
        env=landing.cli.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            reading = json.loads(marker.read_text())
        except (FileNotFoundError, ValueError):
            reading = {}
        if reading.get("file") == name:
            act(int(reading["pid"]))
            break
        time.sleep(0.02)
    else:
        process.kill()
        pytest.fail(f"the marker never named {name}")
    return process.wait(timeout=120)


def killed_while_parsing(landing: Landing, name: str, lines: int, kill: signal.Signals) -> None:
    """Send ``kill`` to `shopflow ingest files` while it parses ``name`` of ``lines`` lines."""
    slow_file(landing, name, lines)
    assert while_parsing(landing, name, lambda pid: os.kill(pid, kill)) != 0
    marker = landing.quarantine / MARKER_FOLDER / "events.json"
    assert json.loads(marker.read_text())["file"] == name  # what the dead run left behind


def test_a_reader_killed_by_a_native_crash_never_crashes_on_that_file_again(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]]
) -> None:
    """The process dies of SIGSEGV while parsing a file (as it did on the deep line, every
    run); the next run quarantines that file naming the crash, and loads the rest."""
    name = "clickstream/events_fatal.jsonl"
    landing.drop("clickstream/events_later.jsonl", line(event("later")) + b"\n")
    killed_while_parsing(landing, name, 100_000, signal.SIGSEGV)
    landing.ingest_cli()
    runs = landing.world.query(
        "select source, status, files_quarantined from audit.pipeline_runs"
        " where stage = 'ingest' order by started_at desc limit 2"
    )
    # status is honest: the recovery counts the quarantine, the crashed run is not ok
    assert runs[0] == ("files", "ok", 1) and runs[1][1] != "ok", runs
    quarantined_once(landing, name, "in the run of 20")
    assert "(Fatal Python error: Segmentation fault)" in landing.quarantined(name)[0]
    assert not (landing.quarantine / MARKER_FOLDER / "events.json").exists()
    loaded = "select event_id from raw_files.events where source_file like '%events_later%'"
    assert landing.world.query(loaded) == [("later",)]
    settled(landing, clean, leaving_out="clickstream/events_later.jsonl")


def test_a_run_killed_without_a_trace_reads_the_file_again(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]]
) -> None:
    """SIGKILL (an operator, a test, the out-of-memory killer) leaves no traceback: the file
    may be innocent, so the next run reads it again, whole (a second death would quarantine
    it: unit-tested)."""
    name = "clickstream/events_killed.jsonl"
    killed_while_parsing(landing, name, 30_000, signal.SIGKILL)
    landing.ingest_cli()
    assert landing.quarantined(name) == []
    loaded = f"select count(distinct event_id) from raw_files.events where source_file = '{name}'"
    assert landing.world.scalar(loaded) == 30_000
    settled(landing, clean, leaving_out=name)


def test_a_file_that_grows_while_it_is_read_is_read_again_whole(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]]
) -> None:
    """A writer appends 5,000 events while the reader parses the file: whatever the reader
    saw loads, and the next run reads the file again, so no appended event is lost."""
    name = "clickstream/events_growing.jsonl"
    slow_file(landing, name, 20_000)
    assert while_parsing(landing, name, lambda _: slow_file(landing, name, 5_000, 20_000)) == 0
    landing.ingest_cli()
    loaded = f"select count(distinct event_id) from raw_files.events where source_file = '{name}'"
    assert landing.world.scalar(loaded) == 25_000
    assert landing.quarantined(name) == []
    settled(landing, clean, leaving_out=name)


def test_a_file_deleted_while_it_is_read_fails_nothing(
    landing: Landing, clean: tuple[tuple[int, str], tuple[int, str]]
) -> None:
    """The sender takes a file back while it is parsed: the run succeeds and loads what it
    read (Linux keeps an open file's content), nothing is quarantined, and the next run
    forgets it."""
    name = "clickstream/events_taken_back.jsonl"
    path = slow_file(landing, name, 20_000)
    assert while_parsing(landing, name, lambda _: path.unlink()) == 0
    loaded = f"select count(distinct event_id) from raw_files.events where source_file = '{name}'"
    # all of it once opened; none if it went between the fast reader and the line reader
    assert landing.world.scalar(loaded) in (0, 20_000)
    assert landing.quarantined(name) == []
    settled(landing, clean, leaving_out=name)


def test_a_landing_folder_that_is_a_file_is_one_clear_sentence(
    server_settings: ConnectionSettings, tmp_path: Path
) -> None:
    with private_world(server_settings, tmp_path) as world:
        world.landing.rmdir()
        world.landing.write_text("not a folder\n")
        done = CliWorld(world.settings, world.landing.parent).run("ingest", "files")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert f"The landing folder {world.landing} is not a folder" in output, output
    assert "Traceback" not in output and "FileExistsError" not in output, output
