"""`shopflow run --target` and `shopflow retry` across targets: which stages each target runs,
and a plain refusal where a failed stage belongs to another command or target."""

from __future__ import annotations

import datetime as dt

import pytest
from typer.testing import CliRunner

from ingestion.cli import run as run_command
from ingestion.cli.app import app
from ingestion.loading.audit import PipelineRun
from ingestion.settings import ENV_TARGET, ConnectionSettings, Settings
from ingestion.stage_runner.pipeline import RunOptions, pipeline_stages
from ingestion.stage_runner.stages import Stage

SETTINGS = ConnectionSettings.__new__(ConnectionSettings)


def stage_names(target: str, materialize_features: bool = False) -> list[str]:
    options = RunOptions(
        "r",
        target=target,
        materialize_features=materialize_features,
        config=Settings.from_environment(),
    )
    return [stage.name for stage in pipeline_stages(SETTINGS, options)]


def test_postgres_runs_the_marts_outputs_and_spark_adds_the_lake() -> None:
    assert stage_names("dev") == ["simulate", "ingest", "dbt-build", "docs", "export", "report"]
    assert stage_names("spark") == ["simulate", "ingest", "history", "lake", "dbt-build"]


def test_materialize_asked_for_loads_the_feature_store_right_after_the_build() -> None:
    assert stage_names("dev", materialize_features=True) == [
        *("simulate", "ingest", "dbt-build", "materialize", "docs", "export", "report")
    ]


def test_an_unknown_target_is_refused_before_anything_runs() -> None:
    result = CliRunner().invoke(app, ["run", "--target", "duckdb"])
    assert result.exit_code == 1
    assert "--target 'duckdb' is not a target: use dev or spark" in result.output


@pytest.fixture
def failed_lake_export(monkeypatch: pytest.MonkeyPatch) -> None:
    """The last run is a `shopflow ingest --destination lake` that failed at its lake stage."""
    failed = PipelineRun(
        run_id="20261202T101500Z-abc123",
        command="ingest",
        stage="lake",
        source="ops",
        started_at=dt.datetime(2026, 12, 2, 10, 15, tzinfo=dt.UTC),
        status="failed",
        error="boom",
    )
    monkeypatch.setattr(run_command, "ready_settings", lambda: SETTINGS)
    monkeypatch.setattr(run_command, "reconcile", lambda _settings: None)
    monkeypatch.setattr(run_command, "last_run", lambda _settings: [failed])
    monkeypatch.setattr(run_command, "first_failed_stage", lambda rows: rows[0])


@pytest.mark.usefixtures("failed_lake_export")
def test_retry_of_a_stage_the_target_has_not_got_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_TARGET, raising=False)
    result = CliRunner().invoke(app, ["retry"])
    assert result.exit_code == 1
    assert "failed at stage lake" in result.output
    assert "run that command again" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("flags", "resumes"), [([], False), (["--resume"], True)])
def test_resume_makes_the_dbt_build_stage_resume_the_last_production_build(
    monkeypatch: pytest.MonkeyPatch, flags: list[str], resumes: bool
) -> None:
    """What Airflow's retried dbt_build task asks for: `dbt retry` of the failed build."""
    seen: list[RunOptions] = []

    def stages(_settings: ConnectionSettings, options: RunOptions) -> list[Stage]:
        seen.append(options)
        return [Stage("dbt-build", "", lambda: "built")]

    monkeypatch.setattr(run_command, "ready_settings", lambda: SETTINGS)
    monkeypatch.setattr(run_command, "pipeline_stages", stages)
    monkeypatch.setattr(run_command, "_execute", lambda *_args: None)
    result = CliRunner().invoke(app, ["run", "--only", "dbt-build", *flags])
    assert result.exit_code == 0, result.output
    assert [options.retry_dbt for options in seen] == [resumes]
