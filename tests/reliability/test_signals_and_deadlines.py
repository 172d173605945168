"""Signals, kill -9, a database gone mid-stage and receivers that hang (issue 21, classes 5, 6).

SIGTERM, SIGINT and SIGHUP end `shopflow` and everything it started, record the stage as
``interrupted``, leave `status` red and `retry` ready; `kill -9` of `shopflow` alone kills dbt
too and the next command settles the stage; an audit row the warehouse cannot take is
journaled and written once it is back. Each case compares the raw or built layer (or the
audit) with the clean run's. A receiver that drips, never accepts or never answers (HTTP,
SMTP) cannot keep the delivering process alive past its deadline. Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.loading.audit_journal import journal_path
from ingestion.settings import ENV_ALERT_URL, ENV_DATABASE, ENV_HOST, ENV_PORT
from ingestion.stage_runner.run_lock import LOCK_KEY
from ingestion.stage_runner.run_record import first_failed_stage, last_run
from tests.loopback import dripping_webhook, hold, never_accepting, smtp_dripping, tcp_server
from tests.reliability.postgres_proxy import PostgresProxy
from tests.reliability.references import BUILT_SCHEMAS, BuiltReference, Reference
from tests.reliability.support import RAW_SCHEMAS, CliWorld, differing, shopflow_command

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SLOW_API = {"STOREFRONT_FAULT_SLOW_RATE": "1.0", "STOREFRONT_FAULT_SLOW_SECONDS": "4"}
"""Every storefront request takes 4 s: the ingest stage is surely under way when signalled."""
STOP_SECONDS = 30.0
"""How long a signalled `shopflow` may take to record, stop dbt and leave."""
DEADLINE = 1.0
EXIT_MARGIN = 3.0
"""A delivering process exits within the deadline plus this (interpreter start included)."""


@dataclass
class Started:
    """A `shopflow` command started in the background, and where its output goes."""

    process: subprocess.Popen[str]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def started(world: CliWorld, *args: str, **extra_env: str) -> Iterator[Started]:
    """`shopflow <args>` on the world, its output in a file (dbt's log would fill a pipe),
    in a session of its own so that a signal reaches `shopflow` alone."""
    log = Path(world.files) / f"{args[0]}-{time.monotonic_ns()}.log"
    with open(log, "w") as log_file:
        process = subprocess.Popen(
            shopflow_command(*args),
            env={**world.env, **extra_env},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
    try:
        yield Started(process, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(
    condition: Callable[[], bool], timeout: float, what: str, command: Started | None = None
) -> None:
    """Poll ``condition``; fail after ``timeout`` or as soon as ``command`` has ended."""
    ends = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < ends, f"{what} did not happen within {timeout:.0f} s"
        if command is not None:
            assert command.process.poll() is None, f"ended before {what}: {command.output}"
        time.sleep(0.2)


def world_processes(world: CliWorld, program: str) -> list[int]:
    """Live processes running ``program`` (an argument of their command line is a path to it:
    the interpreter runs the script) whose environment is the world's
    (``SHOPFLOW_PG_DATABASE``), read from /proc."""
    marker = f"{ENV_DATABASE}={world.settings.database}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
            status = (entry / "status").read_text()
            runs_it = any(Path(os.fsdecode(a)).name == program for a in arguments[:2])
            if "State:\tZ" in status or not runs_it:
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
    return found


def stage_rows(world: CliWorld) -> list[tuple[str, str, str, str]]:
    """(run id, stage, source, status) of every audit row, oldest first."""
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute(
            "select run_id, stage, source, status from audit.pipeline_runs "
            "order by started_at, stage, source"
        )
        return [tuple(row) for row in cursor.fetchall()]


def last_run_statuses(world: CliWorld) -> dict[str, str]:
    rows = stage_rows(world)
    last = rows[-1][0]
    return {
        f"{stage} {source}".strip(): status for run, stage, source, status in rows if run == last
    }


def stage_is_running(world: CliWorld, stage: str) -> Callable[[], bool]:
    def check() -> bool:
        with suppress(Exception):
            return (stage, "running") in {(row[1], row[3]) for row in stage_rows(world)}
        return False

    return check


def waiting_for_the_lock(world: CliWorld, pid: int) -> Callable[[], bool]:
    """Whether `shopflow` (process ``pid``) has opened its lock connection (it then polls)."""

    def check() -> bool:
        with autocommit(world.settings, world.settings.database) as cursor:
            cursor.execute(
                "select exists (select from pg_stat_activity where application_name like %s)",
                (f"shopflow run (pid {pid} %",),
            )
            row = cursor.fetchone()
            return bool(row and row[0])

    return check


def assert_red_and_resumable(world: CliWorld, stage: str) -> None:
    status = world.run("status")
    assert status.returncode == 1, status.stdout + status.stderr
    said = " ".join((status.stdout + status.stderr).split())
    assert "was interrupted at:" in said and stage in said, said


# --- signals ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "kill-9"])
def test_a_signal_during_the_dbt_build_stops_dbt_and_retry_rebuilds_the_clean_warehouse(
    built_reference: BuiltReference, signum: signal.Signals
) -> None:
    world = built_reference.world
    with started(world, "run", "--from", "dbt-build") as process:
        wait_until(lambda: bool(world_processes(world, "dbt")), 120, "dbt starting", process)
        time.sleep(3)  # dbt is building
        os.kill(process.pid, signum)  # `shopflow` alone, not its group
        process.process.wait(timeout=STOP_SECONDS)
        # dbt went with it: stopped by shopflow (SIGTERM), or by the kernel (kill -9)
        wait_until(lambda: not world_processes(world, "dbt"), 15, "dbt ending")
    output = process.output
    expected = -signal.SIGKILL if signum == signal.SIGKILL else 128 + signum
    assert process.process.returncode == expected, output
    if signum != signal.SIGKILL:
        assert "Traceback" not in output
        assert "stopped by SIGTERM during stage dbt-build" in " ".join(output.split())
        statuses = last_run_statuses(world)
        assert statuses["dbt-build"] == "interrupted"
        assert {statuses[s] for s in ("docs", "export", "report")} == {"skipped"}
    assert_red_and_resumable(world, "dbt-build")  # kill -9: the next command settles it
    assert last_run_statuses(world)["dbt-build"] == "interrupted"
    resumed = first_failed_stage(last_run(world.settings))  # what `shopflow retry` resumes
    assert resumed is not None and resumed.stage == "dbt-build"
    if signum == signal.SIGKILL:  # one retry for both (a whole build): the warehouse comes back
        retried = world.run("retry")
        assert retried.returncode == 0, retried.stdout + retried.stderr
        assert "from stage dbt-build" in retried.stdout
        assert differing(world.digest(BUILT_SCHEMAS), built_reference.built) == {}
        assert world.run("status").returncode == 0


@pytest.mark.parametrize(
    ("signum", "command"),
    [
        (signal.SIGINT, ("run", "--only", "ingest")),
        (signal.SIGHUP, ("ingest", "all")),
        (signal.SIGTERM, ("ingest", "storefront")),
    ],
    ids=["sigint-run", "sighup-ingest", "sigterm-ingest-one"],
)
def test_a_signal_during_ingestion_is_recorded_and_loses_nothing(
    reference: Reference, signum: signal.Signals, command: tuple[str, ...]
) -> None:
    world = reference.world
    with started(world, *command, **SLOW_API) as process:
        wait_until(stage_is_running(world, "ingest"), 60, "the ingestion starting", process)
        time.sleep(1)  # inside a 4 s storefront request
        os.kill(process.pid, signum)
        process.process.wait(timeout=STOP_SECONDS)
    output = process.output
    assert process.process.returncode == 128 + signum, output
    assert "Traceback" not in output
    assert f"interrupted by {signum.name}" in output
    assert last_run_statuses(world)["ingest"] == "interrupted"
    assert not world_processes(world, "shopflow")
    assert differing(world.digest(RAW_SCHEMAS), reference.raw) == {}
    assert_red_and_resumable(world, "ingest")  # the kill -9 case below ingests again


def test_kill_9_during_ingestion_is_found_by_the_next_command(reference: Reference) -> None:
    world = reference.world
    with started(world, "ingest", "all", **SLOW_API) as process:
        wait_until(stage_is_running(world, "ingest"), 60, "the ingestion starting", process)
        os.kill(process.pid, signal.SIGKILL)
        process.process.wait(timeout=STOP_SECONDS)
    assert last_run_statuses(world)["ingest"] == "running"  # nobody could say otherwise
    assert_red_and_resumable(world, "ingest")
    assert last_run_statuses(world)["ingest"] == "interrupted"
    again = world.run("ingest", "all")
    assert again.returncode == 0, again.stdout + again.stderr
    assert differing(world.digest(RAW_SCHEMAS), reference.raw) == {}


def test_a_signal_while_waiting_for_the_lock_leaves_at_once_and_records_nothing(
    reference: Reference,
) -> None:
    world = reference.world
    before = stage_rows(world)
    with autocommit(world.settings, world.settings.database) as holder:
        holder.execute("select pg_advisory_lock(%s)", (LOCK_KEY,))
        with started(world, "run", "--wait", "120") as process:
            wait_until(waiting_for_the_lock(world, process.pid), 60, "waiting", process)
            time.sleep(1)
            signalled = time.monotonic()
            os.kill(process.pid, signal.SIGTERM)
            process.process.wait(timeout=STOP_SECONDS)
            took = time.monotonic() - signalled
        holder.execute("select pg_advisory_unlock(%s)", (LOCK_KEY,))
    output = process.output
    assert process.process.returncode == 128 + signal.SIGTERM, output
    assert "Traceback" not in output and "interrupted by SIGTERM" in output
    assert took < 5
    assert stage_rows(world) == before


def test_the_database_gone_mid_stage_leaves_the_failure_in_a_journal_then_in_the_audit(
    built_reference: BuiltReference,
) -> None:
    world = built_reference.world
    proxy = PostgresProxy(world.settings)
    through_proxy = {ENV_HOST: "127.0.0.1", ENV_PORT: str(proxy.port)}
    journal = journal_path(world.settings)
    try:
        with started(world, "run", "--only", "docs", **through_proxy) as process:
            wait_until(lambda: bool(world_processes(world, "dbt")), 120, "dbt starting", process)
            proxy.cut()  # the warehouse goes away while dbt docs works
            process.process.wait(timeout=120)
    finally:
        proxy.cut()
    output = process.output
    assert process.process.returncode == 1, output
    assert "Traceback" not in output
    assert journal.stat().st_size > 0, "the failure was not journaled"
    assert last_run_statuses(world) == {"docs": "running"}  # the failure is not in it yet
    status = world.run("status")  # the server is reachable again (directly)
    said = " ".join((status.stdout + status.stderr).split())
    assert status.returncode == 1 and "failed at: docs" in said, said
    assert last_run_statuses(world) == {"docs": "failed"}
    assert journal.stat().st_size == 0
    assert differing(world.digest(BUILT_SCHEMAS), built_reference.built) == {}


# --- deadlines ----------------------------------------------------------------------------


DELIVER = """
import sys, time
from ingestion.monitoring.alerts import AlertEvent, send_alert
event = AlertEvent(stage="dbt-build", what_failed="boom", run_id="r-deadline")
started = time.monotonic()
delivered = send_alert(event, webhook_url=sys.argv[1], deadline=float(sys.argv[2]))
print(f"delivered={delivered} returned_after={time.monotonic() - started:.1f}", flush=True)
"""


def delivering_process_seconds(url: str) -> tuple[float, str]:
    """Wall seconds of a fresh interpreter that sends one alert to ``url`` and exits."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", DELIVER, url, str(DEADLINE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return time.monotonic() - started, done.stdout + done.stderr


@contextmanager
def receiver_url(kind: str) -> Iterator[str]:
    mail = "?mode=insecure&from=shopflow@example.test&to=oncall@example.test"
    if kind == "dripping-http":
        with dripping_webhook() as url:
            yield url.replace("http://", "json://")
    elif kind == "never-answers":
        with tcp_server(hold) as port:
            yield f"json://127.0.0.1:{port}/hook"
    elif kind == "never-accepts":
        with never_accepting() as port:
            yield f"json://127.0.0.1:{port}/hook"
    elif kind == "smtp-never-greets":
        with tcp_server(hold) as port:
            yield f"mailto://user:secret@127.0.0.1:{port}{mail}"
    elif kind == "smtp-drips":
        with tcp_server(smtp_dripping) as port:
            yield f"mailto://user:secret@127.0.0.1:{port}{mail}"
    else:
        raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    ["dripping-http", "never-answers", "never-accepts", "smtp-never-greets", "smtp-drips"],
)
def test_a_hanging_receiver_never_holds_the_process_past_its_deadline(kind: str) -> None:
    with receiver_url(kind) as url:
        seconds, output = delivering_process_seconds(url)
    assert "delivered=False" in output, output
    assert seconds < DEADLINE + EXIT_MARGIN, f"the process took {seconds:.1f} s: {output}"
    assert f"did not answer within {DEADLINE:.0f} s" in output, output


def test_shopflow_run_exits_on_time_when_the_alert_receiver_drips(
    reference: Reference,
) -> None:
    """The real command: a run that fails at once (no such stage built: report on a raw-only
    warehouse) alerts a dripping receiver and leaves within the 15 s deadline plus a little
    of the alert's start, with the failed stage's exit code. The deadline is timed from the
    alert's arrival: the command's start-up (its imports) is not the alert's to bound, and on
    a busy machine it alone can take seconds."""
    from ingestion.monitoring.alerts import DEADLINE_SECONDS

    world = reference.world
    arrivals: list[float] = []
    with dripping_webhook(most_bytes=4000, arrivals=arrivals) as url:
        started_at = time.monotonic()
        done = subprocess.run(
            shopflow_command("run", "--only", "export"),
            env={**world.env, ENV_ALERT_URL: url.replace("http://", "json://")},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        ended_at = time.monotonic()
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "failed at stage export" in " ".join(output.split())
    assert arrivals, "the alert never reached the receiver"
    after_alert = ended_at - arrivals[0]
    assert after_alert < DEADLINE_SECONDS + EXIT_MARGIN, f"{after_alert:.1f} s after the alert"
    assert ended_at - started_at < DEADLINE_SECONDS + EXIT_MARGIN + 60  # start-up, the stage
