"""Signals as a run sees them (pure logic, no warehouse): an interrupted stage, a signal Python
would have swallowed, a child's process group stopped, the audit journal's replay."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingestion import interrupts
from ingestion.interrupts import (
    RunInterrupted,
    child_process_options,
    stop_process_group,
)
from ingestion.loading import audit_journal
from ingestion.loading.audit import PipelineRun
from ingestion.settings import ENV_HOME, ConnectionSettings
from ingestion.stage_runner.stages import Stage, StageResult, run_stages


def test_an_interrupted_stage_is_recorded_and_the_rest_skipped() -> None:
    def interrupted() -> str:
        raise RunInterrupted(signal.SIGTERM)

    finished: list[StageResult] = []
    results = run_stages(
        [
            Stage("ingest", "", lambda: "done"),
            Stage("dbt-build", "", interrupted),
            Stage("docs", "", lambda: "done"),
        ],
        on_finish=finished.append,
    )

    assert [(r.name, r.status) for r in results] == [
        ("ingest", "ok"),
        ("dbt-build", "interrupted"),
        ("docs", "skipped"),
    ]
    assert finished == results
    assert results[1].detail == "interrupted by SIGTERM during the stage"
    assert results[2].detail == "the run was stopped"
    assert RunInterrupted(signal.SIGHUP).exit_code == 129


def test_a_signal_turned_into_another_error_still_stops_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def wrapped() -> str:
        interrupts._received.append(signal.SIGTERM)  # the handler ran...
        raise RuntimeError("step failed: interrupted")  # ...and a library re-raised as this

    monkeypatch.setattr(interrupts, "_received", [])
    results = run_stages([Stage("ingest", "", wrapped), Stage("docs", "", lambda: "done")])

    assert [(r.name, r.status) for r in results] == [("ingest", "interrupted"), ("docs", "skipped")]
    assert results[0].detail.startswith("interrupted by SIGTERM during the stage (")


SWALLOWED = """
import os, signal, sys, time, weakref
from ingestion.interrupts import RunInterrupted, install_signal_handlers
install_signal_handlers()
class Thing: pass
thing = Thing()
# the signal lands in a weakref callback, whose exceptions Python only prints
ref = weakref.ref(thing, lambda _: os.kill(os.getpid(), signal.SIGTERM))
try:
    del thing
    time.sleep(5)
    print("lost")
except RunInterrupted as exc:
    print(f"raised: {exc}")
"""


def test_a_signal_python_swallowed_is_raised_again() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SWALLOWED], capture_output=True, text=True, timeout=60, check=False
    )
    assert "raised: interrupted by SIGTERM" in done.stdout, done.stdout + done.stderr


def test_stopping_a_child_stops_its_whole_group() -> None:
    # a shell (the child) with a sleeping grandchild; the shell ignores SIGINT
    child = subprocess.Popen(
        ["sh", "-c", "trap '' INT; sleep 600 & wait"], **child_process_options()
    )
    time.sleep(0.5)
    grandchildren = subprocess.run(
        ["pgrep", "-g", str(child.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(grandchildren) >= 2, grandchildren  # the shell and its sleep

    started = time.monotonic()
    stop_process_group(child, grace_seconds=1.0)

    assert child.poll() is not None
    assert time.monotonic() - started < 10
    for pid in grandchildren:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_a_child_dies_with_its_parent_killed_outright() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "from ingestion.interrupts import child_process_options\n"
            "child = subprocess.Popen(['sleep', '600'], **child_process_options())\n"
            "print(child.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    parent.kill()  # kill -9: nothing in the parent runs
    parent.wait()
    ends = time.monotonic() + 10
    while Path(f"/proc/{child_pid}").exists() and time.monotonic() < ends:
        time.sleep(0.1)
    assert not Path(f"/proc/{child_pid}").exists(), "the child outlived its parent"


def row(stage: str, status: str) -> PipelineRun:
    now = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)
    return PipelineRun(
        run_id="run-1", stage=stage, source="", started_at=now, finished_at=now, status=status
    )


def test_the_journal_replays_oldest_first_then_empties_and_skips_a_torn_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_HOME, str(tmp_path))
    settings = ConnectionSettings("127.0.0.1", 5432, "u", "p", "warehouse_a", "ops_a", False)
    audit_journal.append(settings, row("dbt-build", "running"))
    audit_journal.append(settings, row("dbt-build", "failed"))
    with open(audit_journal.journal_path(settings), "a") as journal:
        journal.write('{"run_id": "run-1", "stage": "do')  # a crash in the middle of a line

    written: list[dict[str, object]] = []
    assert audit_journal.replay(settings, written.append) == 2
    assert [(r["stage"], r["status"]) for r in written] == [
        ("dbt-build", "running"),
        ("dbt-build", "failed"),
    ]
    assert written[0]["started_at"] == row("x", "y").started_at
    assert not audit_journal.pending(settings)

    def refused(_: dict[str, object]) -> None:
        raise ConnectionError("still gone")

    audit_journal.append(settings, row("docs", "failed"))
    with pytest.raises(ConnectionError):
        audit_journal.replay(settings, refused)
    assert audit_journal.pending(settings)  # kept whole for the next replay
    other = ConnectionSettings("127.0.0.1", 5432, "u", "p", "warehouse_b", "ops_b", False)
    assert not audit_journal.pending(other)  # one journal per warehouse database
    odd = ConnectionSettings("127.0.0.1", 5432, "u", "p", 'a/../"b"; c', "ops", False)
    assert audit_journal.journal_path(odd).parent == audit_journal.journal_path(settings).parent
    assert os.fspath(audit_journal.journal_path(settings)).startswith(os.fspath(tmp_path))
