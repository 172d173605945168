"""The production build hands dbt no vars (a var that changes every run would make dbt parse
the whole project again, and every plain `dbt show` after it): the run id goes in the
environment of the build and of its retry, and so does the business day, for every dbt
command. Fast: dbt is not run."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from datetime import date
from pathlib import Path

import pytest

from ingestion.settings import ENV_BUSINESS_DATE, REPO_ROOT, ConnectionSettings, Settings
from ingestion.transform import production_build as build_module
from ingestion.transform.dbt_profile import (
    DBT_RUN_ID_VARIABLE,
    DECIDED_VARIABLES,
    dbt_environment,
)
from ingestion.transform.dbt_runner import dbt_executable, run_dbt
from ingestion.transform.run_results import NodeResult, RunResults

Calls = list[tuple[list[str], dict[str, str]]]
SETTINGS = ConnectionSettings("127.0.0.1", 54329, "shopflow", "secret", "shopflow", "ops", False)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Calls:
    """dbt's invocations (arguments, extra environment), dbt itself left out; the production
    state in a temporary folder."""
    made: Calls = []

    def run_dbt(args: list[str], *_: object, extra_env: dict[str, str], **__: object) -> str:
        made.append((args, extra_env))
        return ""

    kept = RunResults("inv", "", [])
    monkeypatch.setattr(build_module, "run_dbt", run_dbt)
    monkeypatch.setattr(build_module, "_keep_results", lambda *_: kept)
    monkeypatch.setattr(build_module, "publish_production_state", lambda *_: None)
    monkeypatch.setattr(build_module, "measure_freshness", lambda *_: None)
    monkeypatch.setattr(build_module, "production_state_dir", lambda _: tmp_path)
    # the build failed a node: a retry has something to resume
    broken = NodeResult("model.shopflow.broken", "error", "boom", None)
    monkeypatch.setattr(build_module, "read_run_results", lambda _: RunResults("inv", "", [broken]))
    return made


def test_the_build_passes_no_vars_and_its_run_id_in_the_environment(
    calls: Calls,
) -> None:
    build_module.production_build(SETTINGS, Settings.from_environment(), "run-1")
    ((args, environment),) = calls
    assert args[0] == "build" and "--vars" not in args
    assert environment == {DBT_RUN_ID_VARIABLE: "run-1"}


def test_a_retry_marks_its_results_with_the_resumed_builds_run_id(
    calls: Calls,
) -> None:
    config = Settings.from_environment()
    build_module.production_build(SETTINGS, config, "run-1")
    build_module.retry_production_build(SETTINGS, config)
    (_, (args, environment)) = calls
    assert args[0] == "retry" and environment == {DBT_RUN_ID_VARIABLE: "run-1"}


def test_the_business_day_reaches_every_dbt_command_in_its_environment() -> None:
    config = Settings.from_environment()
    assert ENV_BUSINESS_DATE not in dbt_environment(SETTINGS, config)  # as in a plain shell
    past = dataclasses.replace(config, business_date=date(2025, 12, 1))
    assert dbt_environment(SETTINGS, past)[ENV_BUSINESS_DATE] == "2025-12-01"


@pytest.mark.integration
def test_a_plain_dbt_command_after_ours_parses_nothing(
    warehouse: ConnectionSettings, tmp_path: Path
) -> None:
    """What used to fail: a run id that changes every run (and our explicit `--target dev`)
    made dbt parse everything again, in our next build and in an analyst's `dbt show`."""
    config = Settings.from_environment()

    def ours(run_id: str) -> None:
        environment = {"DBT_TARGET_PATH": str(tmp_path), DBT_RUN_ID_VARIABLE: run_id}
        run_dbt(["parse"], warehouse, config, stream=False, extra_env=environment)

    ours("run-1")
    ours("run-2")  # the next run's build: a new run id
    assert parsed_files(tmp_path) == 0
    # an analyst's plain command at the repository root, in a shell set for the same warehouse
    # (its .env): no vars, no target, no run id, no business day
    connection = {
        name: value
        for name, value in dbt_environment(warehouse, config).items()
        if name.startswith("SHOPFLOW_PG_")
    }
    plain = {
        **{name: value for name, value in os.environ.items() if name not in DECIDED_VARIABLES},
        **connection,
        "DBT_TARGET_PATH": str(tmp_path),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
    }
    subprocess.run(
        [dbt_executable(), "--no-use-colors", "parse"],
        cwd=REPO_ROOT,
        env=plain,
        check=True,
        capture_output=True,
    )
    assert parsed_files(tmp_path) == 0


def parsed_files(target: Path) -> int:
    """How many files dbt's last parse in ``target`` parsed (0: everything came from its
    partial-parse state)."""
    performance = json.loads((target / "perf_info.json").read_text())
    assert performance["is_partial_parse_enabled"] is True
    return int(performance["parsed_path_count"])
