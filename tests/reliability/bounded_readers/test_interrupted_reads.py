"""A reader interrupted while it parses a file: a native crash, a kill without a trace, a file
that grows or is deleted while it is read, a landing folder that is a file. Cases that could
crash or hang the reader run `shopflow` in a subprocess, so a regression fails the test, not
pytest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestion.settings import ConnectionSettings
from ingestion.sources.files.reading_marker import MARKER_FOLDER
from tests.integration.ingest_support import private_world
from tests.reliability.bounded_readers.landing import Landing, quarantined_once, settled
from tests.reliability.landing_lines import event, line
from tests.reliability.support import CliWorld, shopflow_command

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


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
