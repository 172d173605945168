"""`airflow dags test shopflow_daily` runs the real pipeline; its marts equal `shopflow run`'s.

Two throwaway worlds from the same seed and scale on the test server: in one, Airflow (its own
virtualenv, `make airflow`, metadata in SQLite under a temporary AIRFLOW_HOME) runs every task
of the DAG; in the other, `shopflow run` runs the pipeline in one command. Every mart must have
the same row count and order-independent checksum in both (``spark.mart_checksums``), less
the columns that record when a row was loaded or built. Slow (two whole pipelines): `make
test-orchestration`, which .ci/run calls. The two pipelines run at the same time (separate
databases, folders and API ports): each is mostly one busy process, so on two cores the module
takes about the longer one's time instead of both.

One DAG run is one run of the pipeline: every stage its tasks record in ``audit.pipeline_runs``
carries the one run id made from Airflow's run id, and the DAG's failure alert carries it too.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from ingestion.benchmarking.cli_world import SHOPFLOW, CliWorld, throwaway_world
from ingestion.settings import ENV_ALERT_URL, ConnectionSettings
from ingestion.spark.mart_checksums import differences, mart_checksums
from tests.alerting import Receiver
from tests.orchestration.dag_tasks import SKIPPED_BY_DEFAULT, STAGE_TASKS

pytestmark = [pytest.mark.orchestration, pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = REPO / ".venv-airflow" / "bin" / "airflow"
DAGS_FOLDER = REPO / "orchestration" / "airflow" / "dags"
SEED, SCALE = "7", "0.3"
LOGICAL_DATE = "2026-12-01"
CLI_RUN_TIMEOUT = 1800.0
"""Seconds `shopflow run` may take in the CLI world (the DAG's own task timeout is 30 min)."""
PROCESSING_TIME_COLUMNS = ("dbt_built_at", "loaded_at")
"""When a row was loaded or built: different in two worlds built minutes apart, by design."""
SETUP_RUN_ID = "world-setup"
"""The run that builds the world before the DAG runs on it: not one of the DAG's."""
DAG_STAGES = {"simulate", "ingest", "dbt-build", "docs", "export", "report"}
ALERT_FROM_THE_CALLBACK = """
import importlib.util, sys
from types import SimpleNamespace
from airflow.models import DagRun

spec = importlib.util.spec_from_file_location("shopflow_daily", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
(dag_run,) = DagRun.find(dag_id="shopflow_daily")
task = SimpleNamespace(task_id="status", dag_id=dag_run.dag_id, try_number=4)
module.alert_on_failure({"task_instance": task, "run_id": dag_run.run_id})
print(dag_run.run_id)
"""
"""The DAG's own failure callback, for the DAG run `airflow dags test` recorded (a task made
to fail for good would wait out its retries' backoff first)."""


class AirflowRun(NamedTuple):
    world: CliWorld
    home: Path
    result: subprocess.CompletedProcess[str]


class CliPipeline(NamedTuple):
    """`shopflow run` started in the CLI world and left running; its output goes to ``log``
    (a pipe nobody reads until the end would fill and stall it)."""

    world: CliWorld
    process: subprocess.Popen[bytes]
    log: Path


def airflow(
    world: CliWorld, home: Path, *args: str, program: Path = AIRFLOW, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """The Airflow CLI of .venv-airflow (or another ``program`` of it), pointed at the world
    (the tasks' `shopflow` inherits)."""
    env = {
        **world.environment(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SHOPFLOW_BIN": str(REPO / ".venv" / "bin" / "shopflow"),
        **extra_env,
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(program), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def cli_pipeline(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliPipeline]:
    """The same world, its pipeline started by `shopflow run` in one command, not awaited: it
    runs while Airflow runs the other (``airflow_world`` asks for it first)."""
    with throwaway_world(server_settings, tmp_path_factory.mktemp("cli"), "shopflow_cli_") as world:
        log = world.folder / "shopflow-run.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [SHOPFLOW, "run", "--seed", SEED, "--scale", SCALE],
                env=world.environment(),
                cwd=REPO,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            yield CliPipeline(world, process, log)
        finally:  # its databases are dropped next: never under a running pipeline
            if process.poll() is None:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def airflow_world(
    server_settings: ConnectionSettings,
    tmp_path_factory: pytest.TempPathFactory,
    cli_pipeline: CliPipeline,
) -> Iterator[AirflowRun]:
    """A world whose pipeline Airflow ran: the world, Airflow's home and `airflow dags test`'s
    result (``cli_pipeline`` runs meanwhile)."""
    if not os.access(AIRFLOW, os.X_OK):
        pytest.fail(f"{AIRFLOW} is missing: `make airflow` creates Airflow's virtualenv")
    folder = tmp_path_factory.mktemp("airflow")
    with throwaway_world(server_settings, folder, "shopflow_dag_") as world:
        # the world to run on; the DAG's simulate task (tick_days 0) then runs on it as it is
        world.run(
            "run", "--only", "simulate", "--seed", SEED, "--scale", SCALE, "--run-id", SETUP_RUN_ID
        )
        home = folder / "airflow-home"
        migrated = airflow(world, home, "db", "migrate")
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        yield AirflowRun(
            world, home, airflow(world, home, "dags", "test", "shopflow_daily", LOGICAL_DATE)
        )


@pytest.fixture(scope="module")
def cli_world(cli_pipeline: CliPipeline) -> CliWorld:
    """The CLI world once its `shopflow run` has ended, and ended well."""
    world, process, log = cli_pipeline
    returncode = process.wait(timeout=CLI_RUN_TIMEOUT)
    assert returncode == 0, log.read_text(errors="replace")[-6000:]
    return world


def test_every_task_of_the_dag_succeeds(airflow_world: AirflowRun) -> None:
    world, _, result = airflow_world
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for task in STAGE_TASKS:
        state = "SKIPPED" if task in SKIPPED_BY_DEFAULT else "SUCCESS"
        assert f"Marking task as {state}. dag_id=shopflow_daily, task_id={task}" in output, task
    stages = world.query(
        "select stage, status from audit.pipeline_runs where run_id <> %s order by started_at",
        (SETUP_RUN_ID,),
    )
    assert {stage for stage, _ in stages} == DAG_STAGES
    assert {status for _, status in stages} == {"ok"}


def test_one_dag_run_is_one_run_id_in_the_audit_and_the_alert(
    airflow_world: AirflowRun, receiver: Receiver
) -> None:
    world, home, result = airflow_world
    assert result.returncode == 0, "the DAG run failed: see the test above"
    recorded = world.query(
        "select run_id, stage, source from audit.pipeline_runs where run_id <> %s",
        (SETUP_RUN_ID,),
    )
    run_ids = {run_id for run_id, _, _ in recorded}
    assert len(run_ids) == 1, sorted(run_ids)  # eight CLI calls, one run
    (run_id,) = run_ids
    assert run_id.startswith(f"manual__{LOGICAL_DATE}T00-00-00"), run_id  # Airflow's, made safe
    assert {stage for _, stage, _ in recorded} == DAG_STAGES
    assert {source for _, stage, source in recorded if stage == "ingest"} == {
        "storefront",
        "ops",
        "files",
    }

    alerted = airflow(
        world,
        home,
        "-c",
        ALERT_FROM_THE_CALLBACK,
        str(DAGS_FOLDER / "shopflow_daily.py"),
        program=AIRFLOW.parent / "python",
        **{ENV_ALERT_URL: receiver.url()},
    )
    assert alerted.returncode == 0, alerted.stdout[-3000:] + alerted.stderr[-3000:]
    assert alerted.stdout.split()[-1].startswith(f"manual__{LOGICAL_DATE}")  # Airflow's run id
    assert [body["run_id"] for body in receiver.bodies] == [run_id]
    assert receiver.bodies[0]["stage"] == "status"


def test_the_dags_marts_equal_those_of_shopflow_run(
    airflow_world: AirflowRun, cli_world: CliWorld
) -> None:
    world, _, result = airflow_world
    assert result.returncode == 0, "the DAG run failed: see the test above"
    by_airflow = mart_checksums(world.settings, exclude_columns=PROCESSING_TIME_COLUMNS)
    by_cli = mart_checksums(cli_world.settings, exclude_columns=PROCESSING_TIME_COLUMNS)
    assert len(by_cli) >= 20, sorted(by_cli)
    assert all(checksum.rows > 0 for checksum in by_cli.values()), by_cli
    assert differences(by_airflow, by_cli) == []
