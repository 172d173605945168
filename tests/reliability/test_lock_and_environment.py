"""One run at a time per warehouse, and nothing in the environment redirects a load.

Faults: a second `shopflow` command while one holds the warehouse; two `shopflow ingest all`
started together (before the lock they shared dlt's working folders: FileNotFoundError in
``load/normalized/.../started`` and rows reported loaded that never landed); dlt's dev-mode
and refresh settings (``FULL_REFRESH=1``, ``DEV_MODE=true``, ...) in the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.cli.locking import BUSY_EXIT_CODE
from ingestion.loading.registry import StorefrontEndpoint
from ingestion.settings import ConnectionSettings
from ingestion.simulators.storefront_api import ApiConfig, running_api
from ingestion.stage_runner.run_lock import RunLockBusyError, run_lock
from tests.integration.ingest_support import IngestWorld, private_world
from tests.reliability.shopflow_cli import (
    built_world,
    raw_layer,
    start_shopflow,
    subprocess_env,
    world_env,
)


def advisory_locks_held(world: IngestWorld) -> int:
    """Advisory locks granted on the world's warehouse database, whoever holds them."""
    count = world.scalar(
        "select count(*) from pg_locks where locktype = 'advisory' and granted"
        " and database = (select oid from pg_database where datname = current_database())"
    )
    assert isinstance(count, int)
    return count


pytestmark = [pytest.mark.reliability, pytest.mark.integration]

runner = CliRunner()


@pytest.fixture
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    """A private world (seed 42, scale 0.1) with its landing files, nothing ingested yet."""
    with built_world(server_settings, tmp_path_factory.mktemp("world")) as created:
        yield created


@pytest.fixture
def reference(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    """The same world again, ingested once, alone: what the raw layer must look like."""
    with built_world(server_settings, tmp_path_factory.mktemp("reference")) as created:
        api = ApiConfig(connection=created.settings, rate_limit_per_second=1000)
        with running_api(api) as handle:
            report = created.ingest(
                "storefront",
                "ops",
                "files",
                endpoint=StorefrontEndpoint(handle.base_url, handle.api_key),
            )
        assert report.ok, report.units
        yield created


def point_cli_at(world: IngestWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHOPFLOW_PG_HOST", raising=False)
    for name, value in world_env(world).items():
        monkeypatch.setenv(name, value)


def test_a_second_command_refuses_at_once_and_names_the_holder(
    empty_world: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(empty_world, monkeypatch)

    with run_lock(empty_world.settings, "ingest all"):
        started = time.monotonic()
        ingest = runner.invoke(app, ["ingest", "files"])
        run = runner.invoke(app, ["run", "--scale", "0.01"])
        refused_in = time.monotonic() - started

    for result in (ingest, run):
        assert result.exit_code == BUSY_EXIT_CODE, result.output
        assert "Traceback" not in result.output
        assert "Another run holds the run lock" in result.output
        # the holder: its command, process and host as it named itself, and since when
        assert f"shopflow ingest all (pid {os.getpid()} on " in result.output
        assert "holding it since" in result.output
    assert refused_in < 10
    # refused before doing anything: `run` built no world, `ingest` created no raw schema
    assert (
        empty_world.scalar("select count(*) from pg_namespace where nspname = 'ops'", ops=True) == 0
    )
    assert empty_world.scalar("select count(*) from pg_namespace where nspname like 'raw_%'") == 0


def test_wait_is_bounded_and_a_freed_lock_lets_the_waiting_command_run(
    empty_world: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(empty_world, monkeypatch)

    with run_lock(empty_world.settings, "run"):
        started = time.monotonic()
        gave_up = runner.invoke(app, ["ingest", "files", "--wait", "2"])
        waited = time.monotonic() - started
    assert gave_up.exit_code == BUSY_EXIT_CODE, gave_up.output
    assert 2 <= waited < 12

    holder_done = threading.Event()

    def hold_briefly() -> None:
        with run_lock(empty_world.settings, "run"):
            holder_done.wait(1.5)

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    time.sleep(0.5)  # the holder has the lock when the command starts
    started = time.monotonic()
    ran = runner.invoke(app, ["ingest", "files", "--wait", "60"])
    waited = time.monotonic() - started
    holder.join()

    assert ran.exit_code == 0, ran.output
    assert waited >= 0.9  # it waited for the holder rather than running beside it
    assert (
        empty_world.scalar("select count(*) from audit.pipeline_runs where source = 'files'") == 1
    )


HOLD_THE_LOCK = """
import time
from ingestion.stage_runner.run_lock import RunLockBusyError, run_lock
from ingestion.database.server_settings import connection_settings
with run_lock(connection_settings(), "ingest all"):
    print("locked", flush=True)
    time.sleep(600)
"""


def test_the_lock_is_per_warehouse_and_freed_when_its_holder_is_killed(
    empty_world: IngestWorld,
    server_settings: ConnectionSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    with (
        private_world(server_settings, tmp_path_factory.mktemp("other")) as other,
        run_lock(empty_world.settings, "run"),
        run_lock(other.settings, "run"),
    ):
        pass  # two warehouses on one server never block each other

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK],
        env=subprocess_env(empty_world),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunLockBusyError, match=f"pid {holder.pid} on "), ExitStack() as stack:
            stack.enter_context(run_lock(empty_world.settings, "run"))
        holder.kill()  # SIGKILL: no clean-up of its own runs
        holder.wait(timeout=30)
        # Postgres frees a session lock with its connection: no stale lock to clear by hand
        with run_lock(empty_world.settings, "run", wait_seconds=10):
            assert advisory_locks_held(empty_world) == 1
        assert advisory_locks_held(empty_world) == 0
    finally:
        holder.kill()
        holder.wait(timeout=30)


@pytest.mark.slow
def test_two_ingest_all_at_once_lose_nothing(world: IngestWorld, reference: IngestWorld) -> None:
    first = start_shopflow(world, "ingest", "all")
    try:
        deadline = time.monotonic() + 120
        while not world.query(
            "select 1 from pg_stat_activity where datname = current_database()"
            " and application_name like 'shopflow ingest all%'"
        ):
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the first ingest never took the lock"
            time.sleep(0.2)
        second = start_shopflow(world, "ingest", "all")
        waiting = start_shopflow(world, "ingest", "all", "--wait", "600")
        second_out, second_err = second.communicate(timeout=120)
        assert first.poll() is None  # refused while the first still ran
        first_out, first_err = first.communicate(timeout=600)
        waiting_out, waiting_err = waiting.communicate(timeout=600)
    finally:
        first.kill()
        first.wait(timeout=30)

    assert first.returncode == 0, first_out + first_err
    assert second.returncode == BUSY_EXIT_CODE, second_out + second_err
    assert f"shopflow ingest all (pid {first.pid} on " in second_err
    assert "Traceback" not in second_out + second_err
    # the one that waited ran after the first, as a re-run: nothing new, nothing failed
    assert waiting.returncode == 0, waiting_out + waiting_err
    assert "Traceback" not in waiting_out + waiting_err

    assert raw_layer(world) == raw_layer(reference)


def test_dlt_settings_in_the_environment_cannot_redirect_a_load(
    world: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    redirecting = {
        "FULL_REFRESH": "1",
        "DEV_MODE": "true",
        "PIPELINES__DEV_MODE": "true",
        "PIPELINES__SHOPFLOW_FILES__FULL_REFRESH": "true",
        "REFRESH": "drop_sources",
        "DATASET_NAME_LAYOUT": "elsewhere_%s",
        "USE_SINGLE_DATASET": "false",
    }
    for name, value in redirecting.items():
        monkeypatch.setenv(name, value)

    first = world.ingest("files")
    load_ids = world.query("select distinct _dlt_load_id from raw_files.events")
    second = world.ingest("files")

    assert first.ok and second.ok, (first.units, second.units)
    events = next(u for u in first.units if u.table == "events")
    assert events.rows_loaded > 0
    assert world.scalar("select count(*) from raw_files.events") == events.rows_loaded
    # no dev dataset (raw_files_<timestamp>), no prefixed or per-schema one
    schemas = [row[0] for row in world.query("select nspname from pg_namespace order by 1")]
    assert [s for s in schemas if "files" in s] == ["raw_files", "raw_files_staging"], schemas
    # the second run loaded nothing: no refresh dropped the source, state carried over
    assert sum(u.rows_loaded for u in second.units) == 0
    assert world.query("select distinct _dlt_load_id from raw_files.events") == load_ids
    # and the variables are back for whoever else reads them
    assert all(os.environ[name] == value for name, value in redirecting.items())
