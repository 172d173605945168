"""shopflow_daily: the ShopFlow pipeline's stages as Airflow tasks, each one `shopflow` command.

simulate -> ingest_storefront -> ingest_ops -> ingest_files -> dbt_build -> docs -> export
-> report -> status (the gate: `shopflow status`, red when a run failed, a test fails or a
source is stale). The tasks call the project's own CLI in the project's virtualenv, so
Airflow's virtualenv never imports the project. How to run it: docs/orchestration.md.

One DAG run is one run of the pipeline: every task passes `--run-id`, the same id made from
Airflow's run id (`shopflow_run_id`), so `audit.pipeline_runs`, `shopflow status` (the gate
judges this run) and the failure alert all name it.

Settings, none of them secret (the alert URLs and database settings stay in the environment
the worker runs with, as for cron):
- the `shopflow` executable: Airflow Variable `shopflow_bin`, else env `SHOPFLOW_BIN`, else
  `<repo>/.venv/bin/shopflow`;
- `SHOPFLOW_AIRFLOW_CATCHUP=true` turns catchup on (off by default: the loads are
  cursor-based, so one run catches up on everything new anyway).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow import DAG
from airflow.models import Variable
from airflow.models.param import Param
from airflow.operators.bash import BashOperator

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[3]
DEFAULT_SHOPFLOW_BIN = os.environ.get("SHOPFLOW_BIN") or str(REPO / ".venv" / "bin" / "shopflow")
SHOPFLOW_BIN_VARIABLE = "shopflow_bin"
# Resolved when the task runs, not when the file is parsed (no metadata DB query per parse).
SHOPFLOW = f"{{{{ var.value.get('{SHOPFLOW_BIN_VARIABLE}', '{DEFAULT_SHOPFLOW_BIN}') }}}}"
SEND_ALERT_SCRIPT = REPO / "orchestration" / "airflow" / "send_alert.py"

# `shopflow run`, `ingest` and `retry` hold the warehouse lock for the whole command; another
# one refuses with exit code 75. Wait this long for it first; after that the task fails and is
# retried with backoff like any other failure.
LOCK_EXIT_CODE = 75
LOCK_WAIT_SECONDS = 300
ALERT_TIMEOUT_SECONDS = 60
RUN_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_RUN_ID_LENGTH = 100


def shopflow_run_id(airflow_run_id: str) -> str:
    """The `shopflow --run-id` of a DAG run: Airflow's run id with each character the CLI
    refuses (``:`` and ``+`` of its timestamp; the id names lake files and SQL labels) made a
    ``-``, e.g. ``manual__2026-12-01T00:00:00+00:00`` -> ``manual__2026-12-01T00-00-00-00-00``.
    The tasks get it through the ``shopflow_run_id`` template filter, the alert from here."""
    safe = RUN_ID_UNSAFE.sub("-", airflow_run_id).lstrip("._-")[:MAX_RUN_ID_LENGTH]
    return safe or "airflow"


RUN_ID_OPTION = "--run-id {{ run_id | shopflow_run_id }}"
"""Added to every task's command: all the tasks of one DAG run record under one id."""


def alert_on_failure(context: dict[str, Any]) -> None:
    """Send the project's failure alert once a task has failed for good (retries used up).

    The Airflow virtualenv does not have the project installed, so this runs the project's
    alert code with the project's interpreter (next to the `shopflow` executable): the same
    receivers and message shape as `shopflow run`. Never raises: a callback that fails only
    hides the task's own error.
    """
    task_instance = context["task_instance"]
    exception = context.get("exception")
    what_failed = failure_sentence(task_instance.task_id, task_instance.try_number, exception)
    shopflow_bin = Variable.get(SHOPFLOW_BIN_VARIABLE, default_var=DEFAULT_SHOPFLOW_BIN)
    command = [
        str(Path(shopflow_bin).parent / "python"),
        str(SEND_ALERT_SCRIPT),
        "--stage",
        task_instance.task_id,
        "--run-id",
        shopflow_run_id(context["run_id"]),
        "--what-failed",
        what_failed,
    ]
    try:
        subprocess.run(command, check=True, timeout=ALERT_TIMEOUT_SECONDS, cwd=REPO)
    except (OSError, subprocess.SubprocessError):
        log.warning("could not send the failure alert for %s", task_instance.task_id, exc_info=True)


def failure_sentence(task_id: str, try_number: int, exception: BaseException | None) -> str:
    """One sentence a person on call reads first, then the exception as Airflow raised it."""
    text = str(exception or "no exception recorded")
    exit_code = re.search(r"exit code (\d+)", text)
    if exit_code and int(exit_code.group(1)) == LOCK_EXIT_CODE:
        cause = "another run held the warehouse lock (exit code 75)"
    elif exit_code:
        cause = f"`shopflow` exited with code {exit_code.group(1)}; its output is in the task log"
    elif type(exception).__name__ == "AirflowTaskTimeout":
        cause = "it ran past its execution_timeout"
    else:
        cause = text.splitlines()[0] if text.strip() else "no exception recorded"
    return f"Airflow task {task_id} failed after {try_number} tries: {cause}.\n{text}"


DEFAULT_ARGS = {
    "owner": "data-engineering",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": True,  # about 1, 2, 4 minutes (Airflow adds jitter)
    "max_retry_delay": timedelta(minutes=30),
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": alert_on_failure,
}

# The environment every command gets on top of the worker's own. The CLI's own alerts are
# switched off inside Airflow: a task retried three times would alert four times; the
# callback above alerts once, when the retries are used up.
TASK_ENV = {
    "SHOPFLOW_BUSINESS_DATE": "{{ params.business_date or ds }}",
    "SHOPFLOW_ALERT_URL": "",
    "SHOPFLOW_ALERT_WEBHOOK": "",
}


SKIPPED = 99
"""Airflow's exit code for "skipped" (BashOperator's ``skip_on_exit_code``)."""


def shopflow_task(
    task_id: str, arguments: str, timeout: timedelta, only_if: str | None = None
) -> BashOperator:
    """A task running `shopflow <arguments> --run-id <the DAG run's>` in the repository; a
    non-zero exit fails it. With ``only_if`` (a boolean DAG param) the task is skipped, not
    run, when the DAG run's param is false."""
    command = f'"{SHOPFLOW}" {arguments} {RUN_ID_OPTION}'
    if only_if is not None:
        command = (
            f"{{% if params.{only_if} %}}{command}{{% else %}}"
            f"echo 'skipped: the DAG param {only_if} is off'; exit {SKIPPED}{{% endif %}}"
        )
    return BashOperator(
        task_id=task_id,
        bash_command=command,
        env=TASK_ENV,
        append_env=True,
        cwd=str(REPO),
        # every other non-zero exit (75 included) is a failure to retry
        skip_on_exit_code=SKIPPED if only_if is not None else None,
        execution_timeout=timeout,
    )


with DAG(
    dag_id="shopflow_daily",
    description="ShopFlow ELT: simulate, ingest per source, dbt build, docs, export, report",
    doc_md=__doc__,
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=os.environ.get("SHOPFLOW_AIRFLOW_CATCHUP", "false").lower() == "true",
    max_active_runs=1,  # the warehouse lock allows one run at a time anyway
    dagrun_timeout=timedelta(hours=4),
    default_args=DEFAULT_ARGS,
    user_defined_filters={"shopflow_run_id": shopflow_run_id},
    params={
        "business_date": Param(
            None,
            type=["null", "string"],
            format="date",
            description="The business day this run stands for (default: the run's logical "
            "date, ds). Passed as SHOPFLOW_BUSINESS_DATE: dbt's business clock and the dated "
            "exports answer as of it (never past the latest data).",
        ),
        "tick_days": Param(
            0,
            type="integer",
            minimum=0,
            description="Advance the simulated world this many days before ingesting "
            "(shopflow run --only simulate --tick N). 0 re-runs on the world as it is.",
        ),
        "materialize_features": Param(
            False,
            type="boolean",
            description="After the dbt build, load the feature store's online store "
            "(shopflow run --only materialize --materialize; the worker needs the project's "
            ".venv-feast, `make feast`; docs/features.md). Off: the task is skipped.",
        ),
    },
    tags=["shopflow"],
) as dag:
    wait = f"--wait {LOCK_WAIT_SECONDS}"
    simulate = shopflow_task(
        "simulate",
        f"run --only simulate --tick {{{{ params.tick_days }}}} {wait}",
        timedelta(minutes=20),
    )
    # One task per source, one after another: each `shopflow ingest` holds the warehouse lock,
    # so parallel ones would refuse each other (exit 75); separate tasks still give each
    # source its own retries, duration and log.
    ingests = [
        shopflow_task(f"ingest_{source}", f"ingest {source} {wait}", timedelta(minutes=30))
        for source in ("storefront", "ops", "files")
    ]
    # One task for the whole dbt build, not one per layer or per model (astronomer-cosmos):
    # the production build is one dbt invocation whose run id, results and retry state
    # `shopflow status` and `shopflow retry` read, and dbt already runs each layer's models in
    # parallel threads inside it. A retried try resumes only the failed and skipped nodes
    # (`--resume`: dbt retry) instead of building everything again.
    resume = "{{ '--resume ' if ti.try_number > 1 else '' }}"
    dbt_build = shopflow_task(
        "dbt_build", f"run --only dbt-build {resume}{wait}", timedelta(hours=1)
    )
    materialize = shopflow_task(
        "materialize",
        f"run --only materialize --materialize {wait}",
        timedelta(minutes=30),
        only_if="materialize_features",
    )
    docs = shopflow_task("docs", f"run --only docs {wait}", timedelta(minutes=15))
    docs.trigger_rule = "none_failed"  # after a materialize that ran or was skipped
    export = shopflow_task("export", f"run --only export {wait}", timedelta(minutes=15))
    report = shopflow_task("report", f"run --only report {wait}", timedelta(minutes=15))
    status = shopflow_task("status", "status", timedelta(minutes=5))

    simulate >> ingests[0] >> ingests[1] >> ingests[2] >> dbt_build
    dbt_build >> materialize >> docs >> export >> report >> status
