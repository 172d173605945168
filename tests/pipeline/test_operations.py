"""Operating a run: one run id through every stage, plain failures, status as a gate, re-runs.

The first tests read the session's built warehouse (tests/conftest.py). The failure
tests get a world of their own (``operated``), in order: they break something real on purpose
(the storefront API is not there; a raw column a staging model reads is renamed), look at
what a person on call would see, then repair it and resume.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from ingestion.benchmarking.cli_world import CliWorld, cli_environment, throwaway_world
from ingestion.cli.app import app
from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings, Settings
from ingestion.transform.dbt_runner import run_dbt
from tests.alerting import Receiver
from tests.ports import free_port
from tests.worlds import PIPELINE_SCALE, BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUN_TITLE = re.compile(r"shopflow run (\d{8}T\d{6}Z-[0-9a-f]{6})")
RAW_SPEND = "raw_files.marketing_spend"


@dataclass(frozen=True)
class OperatedWorld:
    """A world of this module's own: `shopflow` runs in it, its failures stay in it."""

    world: CliWorld

    def shopflow(self, *args: str, **extra_env: str) -> Result:
        env = {**cli_environment(self.world.settings, self.world.folder), **extra_env}
        return shopflow(*args, env=env)

    def status_json(self) -> tuple[int, dict]:  # type: ignore[type-arg]
        return status_json(self.shopflow("status", "--json", "--runs", "5"))

    def query(self, statement: str) -> list[tuple]:  # type: ignore[type-arg]
        return self.world.query(statement)

    def scalar(self, statement: str) -> object:
        return self.query(statement)[0][0]

    def execute(self, statement: str) -> None:
        with autocommit(self.world.settings, self.world.settings.database) as cursor:
            cursor.execute(statement)


@pytest.fixture(scope="module")
def operated(
    server_settings: ConnectionSettings,
    pipeline_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OperatedWorld]:
    with throwaway_world(server_settings, tmp_path_factory.mktemp("ops"), "shopflow_ops_") as world:
        operated = OperatedWorld(world)
        first = operated.shopflow("run", "--scale", PIPELINE_SCALE)
        assert first.exit_code == 0, first.output
        yield operated


def shopflow(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def run_id_of(result: Result) -> str:
    found = RUN_TITLE.search(result.output)
    assert found, result.output
    return found.group(1)


def status_json(result: Result | None = None) -> tuple[int, dict]:  # type: ignore[type-arg]
    """`shopflow status --json` (the session's warehouse unless a result is given)."""
    result = result or shopflow("status", "--json", "--runs", "5")
    assert result.stdout.startswith("{"), result.output
    return result.exit_code, json.loads(result.stdout)


def test_one_run_id_through_every_stage(built_warehouse: BuiltWarehouse) -> None:
    run_id = run_id_of(built_warehouse.first_run)
    rows = built_warehouse.query(
        "select stage, source, status, command, dbt_invocation_id from audit.pipeline_runs "
        f"where run_id = '{run_id}' order by started_at"
    )
    assert [(stage, source) for stage, source, *_ in rows] == [
        ("simulate", ""),
        *[("ingest", source) for source in ("storefront", "ops", "files")],
        ("dbt-build", ""),
        ("docs", ""),
        ("export", ""),
        ("report", ""),
    ]
    assert {(status, command) for _, _, status, command, _ in rows} == {("ok", "run")}
    invocation = next(inv for stage, *_, inv in rows if stage == "dbt-build")
    built = built_warehouse.scalar(
        "select count(*) from audit.dbt_results "
        f"where invocation_id = '{invocation}' and command = 'build'"
    )
    assert built > 300  # dbt's own record of the same build, found by the recorded id


def test_the_run_output_is_fit_for_a_file(built_warehouse: BuiltWarehouse) -> None:
    output = built_warehouse.first_run.output
    assert "\x1b[" not in output  # neither rich nor dbt colour a file
    summary = output[output.index("shopflow run ") :]
    assert "…" not in summary  # no cell of the summary is cut
    assert re.search(r"│ dbt-build │ ok +│ +[\d.]+ │ \d+ nodes: .*pass \d+", summary)


def test_status_is_green_and_reads_the_production_build(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    code, document = status_json()
    assert code == 0, document["problems"]
    assert document["healthy"] is True
    production = document["production_build"]
    assert sum(production["test_counts"].values()) > 250
    stale = [item for item in document["freshness"] if item["status"] != "pass"]
    assert not stale, stale

    # an analyst's ad-hoc build of one model never replaces the production build's tests
    own_target = {"DBT_TARGET_PATH": str(tmp_path / "target")}
    run_dbt(
        ["build", "--select", "dim_date"],
        built_warehouse.settings,
        Settings.from_environment(),
        stream=False,
        extra_env=own_target,
    )
    _, after = status_json()
    assert after["production_build"] == production


def test_a_source_that_is_down_fails_in_one_sentence(
    operated: OperatedWorld,
    receiver: Receiver,
) -> None:
    port = free_port()
    env = {
        "SOURCES__STOREFRONT__BASE_URL": f"http://127.0.0.1:{port}",
        "SOURCES__STOREFRONT__API_KEY": "any",
        "SOURCES__STOREFRONT__REQUEST_MAX_ATTEMPTS": "1",
        "SHOPFLOW_ALERT_URL": receiver.url(),
        "COLUMNS": "500",  # the summary's cells unwrapped: each table's sentence on one line
    }
    result = operated.shopflow("run", "--only", "ingest", **env)

    assert result.exit_code == 1
    run_id = run_id_of(result)
    cause = (
        f"the storefront API at http://127.0.0.1:{port} refused every connection for 0 s"
        " (1 attempt): is it running there? Nothing loaded, cursor kept"
    )
    error = operated.scalar(
        "select error from audit.pipeline_runs "
        f"where run_id = '{run_id}' and stage = 'ingest' and source = 'storefront'"
    )
    assert error == f"products: {cause}\nsales: {cause}"
    assert "PipelineStepFailed" not in result.output
    assert result.output.count(cause) == 2  # once per table in the summary, no more
    assert [body["run_id"] for body in receiver.bodies] == [run_id]
    code, document = operated.status_json()
    assert code == 1
    assert document["problems"] == [f"the last run ({run_id}) failed at: ingest storefront"]


def test_a_broken_model_fails_plainly_and_retry_resumes_only_what_failed(
    operated: OperatedWorld,
    receiver: Receiver,
) -> None:
    env = {"SHOPFLOW_ALERT_URL": receiver.url()}
    operated.execute(f"alter table {RAW_SPEND} rename column spend to spend_moved")
    try:
        failed = operated.shopflow("run", "--from", "dbt-build", **env)
    finally:
        operated.execute(f"alter table {RAW_SPEND} rename column spend_moved to spend")

    assert failed.exit_code == 1
    failed_id = run_id_of(failed)
    detail = operated.scalar(
        f"select error from audit.pipeline_runs where run_id = '{failed_id}' "
        "and stage = 'dbt-build'"
    )
    assert detail.startswith("dbt build failed: 1 of ")
    assert 'model stg_files__marketing_spend: column "spend" does not exist' in detail
    assert "\n" not in detail and "compiled code" not in detail
    assert re.search(r"│ docs +│ skipped", failed.output)
    code, _ = operated.status_json()
    assert code == 1

    retried = operated.shopflow("retry", **env)

    assert retried.exit_code == 0, retried.output
    retry_id = run_id_of(retried)
    stages, invocation = operated.query(
        "select array_agg(stage order by started_at), max(dbt_invocation_id) "
        f"from audit.pipeline_runs where run_id = '{retry_id}' and command = 'retry'"
    )[0]
    assert stages == ["dbt-build", "docs", "export", "report"]
    nodes = {
        name
        for (name,) in operated.query(
            f"select node_name from audit.dbt_results where invocation_id = '{invocation}' "
            "and resource_type <> 'operation'"
        )
    }
    assert "stg_files__marketing_spend" in nodes and "mart_marketing_roas" in nodes
    assert "fct_orders" not in nodes and len(nodes) < 60  # only the failed and skipped
    code, document = operated.status_json()
    assert code == 0, document["problems"]
    assert len(document["production_build"]["dbt_invocation_ids"]) == 2
    assert sum(document["production_build"]["test_counts"].values()) > 250
    outcomes = [body["outcome"] for body in receiver.bodies]
    assert outcomes == ["failed", "recovered"]
    assert receiver.bodies[0]["run_id"] == failed_id


def test_unknown_stage_and_nothing_to_retry(operated: OperatedWorld) -> None:
    wrong = operated.shopflow("run", "--from", "build")
    assert wrong.exit_code == 1
    assert "choose one of simulate, ingest, dbt-build, docs, export, report" in wrong.output

    only = operated.shopflow("run", "--only", "docs")
    assert only.exit_code == 0, only.output
    assert operated.query(
        f"select stage from audit.pipeline_runs where run_id = '{run_id_of(only)}'"
    ) == [("docs",)]
    nothing = operated.shopflow("retry")
    assert nothing.exit_code == 1
    assert "nothing to retry" in nothing.output


def test_status_and_run_upgrade_a_warehouse_from_before_run_ids(operated: OperatedWorld) -> None:
    """A warehouse last built by an earlier release: no run-id columns, no production mark."""
    operated.execute(
        "alter table audit.pipeline_runs drop column command, drop column detail, "
        "drop column dbt_invocation_id; "
        "alter table audit.dbt_results drop column production_run_id cascade"
    )
    code, document = operated.status_json()
    assert code in (0, 1) and document["production_build"]["test_counts"] == {}

    rebuilt = operated.shopflow("run", "--only", "dbt-build")

    assert rebuilt.exit_code == 0, rebuilt.output
    code, document = operated.status_json()
    assert code == 0, document["problems"]
    assert sum(document["production_build"]["test_counts"].values()) > 250
