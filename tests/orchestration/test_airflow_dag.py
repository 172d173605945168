"""The shopflow_daily Airflow DAG: it imports cleanly and has the shape operations rely on.

Airflow lives in its own virtualenv (`make airflow`), so these tests run there:
`make test-dag` (part of `make test`). The project's venv has no Airflow and skips the module.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import re
from datetime import timedelta
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

pytest.importorskip(
    "airflow",
    reason="Airflow lives in .venv-airflow: these tests run with `make test-dag`",
)

from airflow.exceptions import AirflowException
from airflow.models import DagBag
from airflow.models.dag import DAG

from tests.orchestration.dag_tasks import STAGE_TASKS

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "orchestration" / "airflow" / "dags"


@pytest.fixture(scope="module")
def dag_bag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_FOLDER), include_examples=False)


@pytest.fixture(scope="module")
def daily_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "shopflow_daily", DAGS_FOLDER / "shopflow_daily.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_executable(path: Path, script: str) -> Path:
    path.write_text(f"#!/usr/bin/env bash\n{script}\n")
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def dag(dag_bag: DagBag) -> DAG:
    return dag_bag.get_dag("shopflow_daily")


def test_the_dags_folder_imports_without_errors(dag_bag: DagBag) -> None:
    assert dag_bag.import_errors == {}
    assert list(dag_bag.dag_ids) == ["shopflow_daily"]


def test_the_tasks_run_the_stages_one_after_another(dag: DAG) -> None:
    assert [task.task_id for task in dag.topological_sort()] == list(STAGE_TASKS)
    for upstream, downstream in itertools.pairwise(STAGE_TASKS):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}


RUN_ID = " --run-id {{ run_id | shopflow_run_id }}"
AIRFLOW_RUN_ID = "scheduled__2026-12-01T00:00:00+00:00"
SHOPFLOW_RUN_ID = "scheduled__2026-12-01T00-00-00-00-00"


def test_each_task_calls_its_shopflow_command(dag: DAG) -> None:
    commands = {task.task_id: task.bash_command for task in dag.tasks}
    assert commands["ingest_ops"].endswith("ingest ops --wait 300" + RUN_ID)
    assert commands["dbt_build"].endswith(
        "run --only dbt-build {{ '--resume ' if ti.try_number > 1 else '' }}--wait 300" + RUN_ID
    )
    assert commands["report"].endswith("run --only report --wait 300" + RUN_ID)
    assert commands["status"].endswith(" status" + RUN_ID)
    assert all("shopflow_bin" in command for command in commands.values())


def rendered_commands(dag: DAG, airflow_run_id: str, materialize: bool = True) -> dict[str, str]:
    """Each task's command as Airflow renders it for a DAG run with this run id (the optional
    tasks asked for, unless ``materialize`` is false)."""
    context = {
        "run_id": airflow_run_id,
        "params": {"tick_days": 0, "business_date": None, "materialize_features": materialize},
        "ti": SimpleNamespace(try_number=1),
        "var": {"value": SimpleNamespace(get=lambda _name, default: default)},
    }
    environment = dag.get_template_env()
    return {
        task.task_id: task.render_template(task.bash_command, context, jinja_env=environment)
        for task in dag.tasks
    }


def test_every_task_of_a_dag_run_passes_the_same_run_id_made_from_airflows(dag: DAG) -> None:
    commands = rendered_commands(dag, AIRFLOW_RUN_ID)
    assert set(commands) == set(STAGE_TASKS)
    for task_id, command in commands.items():
        assert command.split().count("--run-id") == 1, command
        assert command.endswith(f"--run-id {SHOPFLOW_RUN_ID}"), (task_id, command)
    # another DAG run, another id
    other = rendered_commands(dag, "manual__2026-12-02T06:30:00+00:00")
    assert other["status"].endswith("--run-id manual__2026-12-02T06-30-00-00-00")


@pytest.mark.parametrize(
    ("airflow_run_id", "shopflow_run_id"),
    [
        (AIRFLOW_RUN_ID, SHOPFLOW_RUN_ID),
        ("backfill__2026-01-01T00:00:00+00:00", "backfill__2026-01-01T00-00-00-00-00"),
        ("my run/2026", "my-run-2026"),
        ("::", "airflow"),
        ("x" * 300, "x" * 100),
    ],
)
def test_the_run_id_is_one_the_cli_accepts(
    daily_module: ModuleType, airflow_run_id: str, shopflow_run_id: str
) -> None:
    """Letters, digits, '.', '_', '-', a letter or digit first, at most 100 characters: the
    rule of ingestion/cli/run_id.py (which this virtualenv cannot import)."""
    made = daily_module.shopflow_run_id(airflow_run_id)
    assert made == shopflow_run_id
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", made)


def test_every_task_retries_with_backoff_a_timeout_and_an_alert(dag: DAG) -> None:
    for task in dag.tasks:
        assert task.retries == 3, task.task_id
        assert task.retry_exponential_backoff, task.task_id
        assert task.retry_delay == timedelta(minutes=1)
        assert task.max_retry_delay == timedelta(minutes=30)
        assert timedelta(0) < task.execution_timeout <= timedelta(hours=1), task.task_id
        assert task.on_failure_callback is not None, task.task_id
        # exit code 75 (the warehouse lock is held) must fail the try, to be retried
        assert task.skip_on_exit_code is None or 75 not in task.skip_on_exit_code


def test_a_lock_refusal_fails_the_try_so_it_is_retried(dag: DAG, tmp_path: Path) -> None:
    refusing = fake_executable(tmp_path / "shopflow", "exit 75")
    task = copy.copy(dag.get_task("ingest_ops"))
    task.bash_command, task.env, task.cwd = f'"{refusing}" ingest ops', {}, str(tmp_path)
    # a failure (retried while tries are left), not AirflowSkipException
    with pytest.raises(AirflowException, match="exit code 75") as raised:
        task.execute(context={})
    assert type(raised.value) is AirflowException


def test_the_failure_callback_sends_the_projects_alert_with_its_python(
    daily_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    received = tmp_path / "alert-arguments"
    fake_executable(tmp_path / "python", f'printf "%s\\n" "$@" > "{received}"')
    monkeypatch.setattr(daily_module, "DEFAULT_SHOPFLOW_BIN", str(tmp_path / "shopflow"))
    task_instance = SimpleNamespace(task_id="ingest_ops", dag_id="shopflow_daily", try_number=4)
    exception = AirflowException(
        "Bash command failed. The command returned a non-zero exit code 75."
    )
    daily_module.alert_on_failure(
        {"task_instance": task_instance, "exception": exception, "run_id": AIRFLOW_RUN_ID}
    )
    arguments = received.read_text().splitlines()
    assert arguments[0].endswith("orchestration/airflow/send_alert.py")
    # the id every task of the DAG run recorded under
    assert arguments[1:5] == ["--stage", "ingest_ops", "--run-id", SHOPFLOW_RUN_ID]
    assert arguments[6] == (
        "Airflow task ingest_ops failed after 4 tries: "
        "another run held the warehouse lock (exit code 75)."
    )


def test_the_failure_callback_never_raises(
    daily_module: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        daily_module, "DEFAULT_SHOPFLOW_BIN", str(tmp_path / "missing" / "shopflow")
    )
    task_instance = SimpleNamespace(task_id="docs", dag_id="shopflow_daily", try_number=1)
    daily_module.alert_on_failure({"task_instance": task_instance, "run_id": "manual__x"})


def test_one_run_at_a_time_no_catchup_and_the_business_date_param(dag: DAG) -> None:
    assert dag.max_active_runs == 1
    assert dag.catchup is False
    assert set(dag.params) == {"business_date", "tick_days", "materialize_features"}
    assert dag.params["materialize_features"] is False
    assert dag.params["business_date"] is None
    assert dag.params["tick_days"] == 0
    for task in dag.tasks:
        assert task.env["SHOPFLOW_BUSINESS_DATE"] == "{{ params.business_date or ds }}"
        assert task.append_env


def test_materialize_runs_only_when_asked_and_the_docs_follow_either_way(dag: DAG) -> None:
    asked = rendered_commands(dag, AIRFLOW_RUN_ID)["materialize"]
    assert asked.endswith(
        f"run --only materialize --materialize --wait 300 --run-id {SHOPFLOW_RUN_ID}"
    )
    off = rendered_commands(dag, AIRFLOW_RUN_ID, materialize=False)["materialize"]
    assert off.endswith("exit 99") and "--materialize" not in off
    assert dag.get_task("materialize").skip_on_exit_code == [99]
    assert dag.get_task("docs").trigger_rule == "none_failed"
    others = [t for t in dag.tasks if t.task_id != "materialize"]
    assert all(not t.skip_on_exit_code for t in others)  # a refusal (75) is retried, never skipped
