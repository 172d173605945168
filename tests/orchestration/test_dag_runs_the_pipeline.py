"""`airflow dags test shopflow_daily` runs the real pipeline; its marts equal `shopflow run`'s.

Two throwaway worlds from the same seed and scale on the test server: in one, Airflow (its own
virtualenv, `make airflow`, metadata in SQLite under a temporary AIRFLOW_HOME) runs every task
of the DAG; in the other, `shopflow run` runs the pipeline in one command. Every mart must have
the same row count and order-independent checksum in both (``spark.mart_checksums``), less
the columns that record when a row was loaded or built. Slow (two whole pipelines): `make
test-orchestration`, which .ci/run calls.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.benchmarking.cli_world import CliWorld, throwaway_world
from ingestion.settings import ConnectionSettings
from ingestion.spark.mart_checksums import differences, mart_checksums
from tests.orchestration.dag_tasks import STAGE_TASKS

pytestmark = [pytest.mark.orchestration, pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = REPO / ".venv-airflow" / "bin" / "airflow"
DAGS_FOLDER = REPO / "orchestration" / "airflow" / "dags"
SEED, SCALE = "7", "0.3"
LOGICAL_DATE = "2026-12-01"
PROCESSING_TIME_COLUMNS = ("dbt_built_at", "loaded_at")
"""When a row was loaded or built: different in two worlds built minutes apart, by design."""


def airflow(world: CliWorld, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The Airflow CLI of .venv-airflow, pointed at the world (the tasks' `shopflow` inherits)."""
    env = {
        **world.environment(),
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "SHOPFLOW_BIN": str(REPO / ".venv" / "bin" / "shopflow"),
    }
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(
        [str(AIRFLOW), *args], env=env, cwd=REPO, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def airflow_world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CliWorld, subprocess.CompletedProcess[str]]]:
    """A world whose pipeline Airflow ran: the world and `airflow dags test`'s result."""
    if not os.access(AIRFLOW, os.X_OK):
        pytest.fail(f"{AIRFLOW} is missing: `make airflow` creates Airflow's virtualenv")
    folder = tmp_path_factory.mktemp("airflow")
    with throwaway_world(server_settings, folder, "shopflow_dag_") as world:
        # the world to run on; the DAG's simulate task (tick_days 0) then runs on it as it is
        world.run("run", "--only", "simulate", "--seed", SEED, "--scale", SCALE)
        home = folder / "airflow-home"
        migrated = airflow(world, home, "db", "migrate")
        assert migrated.returncode == 0, migrated.stdout[-3000:] + migrated.stderr[-3000:]
        yield world, airflow(world, home, "dags", "test", "shopflow_daily", LOGICAL_DATE)


@pytest.fixture(scope="module")
def cli_world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CliWorld]:
    """The same world, its pipeline run by `shopflow run` in one command."""
    with throwaway_world(server_settings, tmp_path_factory.mktemp("cli"), "shopflow_cli_") as world:
        world.run("run", "--seed", SEED, "--scale", SCALE)
        yield world


def test_every_task_of_the_dag_succeeds(
    airflow_world: tuple[CliWorld, subprocess.CompletedProcess[str]],
) -> None:
    world, result = airflow_world
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for task in STAGE_TASKS:
        assert f"Marking task as SUCCESS. dag_id=shopflow_daily, task_id={task}" in output, task
    stages = world.query(
        "select stage, status from audit.pipeline_runs where stage <> 'simulate'"
        " or command <> 'run' order by started_at"
    )
    assert {stage for stage, _ in stages} >= {"ingest", "dbt-build", "docs", "export", "report"}
    assert {status for _, status in stages} == {"ok"}


def test_the_dags_marts_equal_those_of_shopflow_run(
    airflow_world: tuple[CliWorld, subprocess.CompletedProcess[str]], cli_world: CliWorld
) -> None:
    world, result = airflow_world
    assert result.returncode == 0, "the DAG run failed: see the test above"
    by_airflow = mart_checksums(world.settings, exclude_columns=PROCESSING_TIME_COLUMNS)
    by_cli = mart_checksums(cli_world.settings, exclude_columns=PROCESSING_TIME_COLUMNS)
    assert len(by_cli) >= 20, sorted(by_cli)
    assert all(checksum.rows > 0 for checksum in by_cli.values()), by_cli
    assert differences(by_airflow, by_cli) == []
