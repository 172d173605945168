"""`--run-id`: every command a scheduler calls records under the id it is given (one scheduled
run, one id), an unsafe id is refused in one sentence before anything runs, and without the
option the CLI makes the one new id."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import typer
from typer.testing import CliRunner

from ingestion.cli import ingest as ingest_command
from ingestion.cli import run as run_command
from ingestion.cli import status as status_command
from ingestion.cli.app import app
from ingestion.cli.run_id import SAFE_RUN_ID, new_run_id, parse_run_id
from ingestion.loading.audit import PipelineRun
from ingestion.loading.runner import IngestReport
from ingestion.monitoring.status import WarehouseStatus
from ingestion.settings import ConnectionSettings
from ingestion.stage_runner.pipeline import RunOptions
from ingestion.stage_runner.stages import Stage

SETTINGS = ConnectionSettings.__new__(ConnectionSettings)
AIRFLOW_LIKE = "manual__2026-12-01T00-00-00-00-00"
NEW_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
NOW = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    "given", [AIRFLOW_LIKE, "20261202T101500Z-3f9a1c", "nightly.2026_12_01", "a" * 100]
)
def test_a_safe_id_is_taken_as_given(given: str) -> None:
    assert parse_run_id(given) == given


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("manual__2026-12-01T00:00:00+00:00", "contains ':+', unsafe in a file name"),
        ("../lake", "contains '/'"),
        ("x'; drop table audit.pipeline_runs; --", 'contains "\'; "'),
        ("", "is empty"),
        (".hidden", "starts with a character other than a letter or a digit"),
        ("a" * 101, "is 101 characters long, more than 100"),
    ],
)
def test_an_unsafe_id_is_refused_saying_why(given: str, said: str) -> None:
    with pytest.raises(typer.BadParameter) as refused:
        parse_run_id(given)
    assert said in str(refused.value)
    assert "give letters, digits, '.', '_' and '-'" in str(refused.value)


def test_a_new_id_sorts_by_time_and_passes_the_check() -> None:
    made = new_run_id()
    assert NEW_ID.fullmatch(made) and SAFE_RUN_ID.fullmatch(made)
    assert new_run_id() != made


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--only", "docs"],
        ["retry"],
        ["ingest", "ops"],
        ["ingest", "--destination", "lake"],
        ["status"],
    ],
    ids=" ".join,
)
def test_every_scheduled_command_refuses_an_unsafe_id_before_it_runs(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--run-id", "scheduled__2026-12-01T00:00:00"])
    assert result.exit_code == 2, result.output
    assert "unsafe in a file name or an SQL label" in result.output
    assert "Traceback" not in result.output


@pytest.fixture
def run_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """`shopflow run` and `retry` without their stages: (command, run id) of each execution,
    and the run id the stages were built with."""
    calls: list[tuple[str, str]] = []

    def stages(_settings: ConnectionSettings, options: RunOptions) -> list[Stage]:
        calls.append(("stages", options.run_id))
        return [Stage(name, "", lambda: "") for name in ("dbt-build", "docs")]

    def execute(
        _settings: object, _stages: object, run_id: str, command: str, _wait: float
    ) -> None:
        calls.append((command, run_id))

    failed = PipelineRun(
        run_id="earlier",
        stage="docs",
        source="",
        started_at=NOW,
        status="failed",
    )
    monkeypatch.setattr(run_command, "ready_settings", lambda: SETTINGS)
    monkeypatch.setattr(run_command, "pipeline_stages", stages)
    monkeypatch.setattr(run_command, "_execute", execute)
    monkeypatch.setattr(run_command, "reconcile", lambda _settings: None)
    monkeypatch.setattr(run_command, "last_run", lambda _settings: [failed])
    return calls


@pytest.mark.parametrize("command", [["run", "--only", "docs"], ["retry"]], ids=" ".join)
def test_run_and_retry_record_under_the_given_id(
    run_calls: list[tuple[str, str]], command: list[str]
) -> None:
    result = CliRunner().invoke(app, [*command, "--run-id", AIRFLOW_LIKE])
    assert result.exit_code == 0, result.output
    assert run_calls == [("stages", AIRFLOW_LIKE), (command[0], AIRFLOW_LIKE)]


def test_without_the_option_a_run_gets_one_new_id(run_calls: list[tuple[str, str]]) -> None:
    result = CliRunner().invoke(app, ["run", "--only", "docs"])
    assert result.exit_code == 0, result.output
    (_, built_with), (_, executed_with) = run_calls
    assert NEW_ID.fullmatch(executed_with) and built_with == executed_with


@contextmanager
def no_lock(*_args: object) -> Iterator[None]:
    yield


def test_ingest_records_under_the_given_id(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[tuple[object, ...]] = []

    def ingestion(*arguments: object) -> IngestReport:
        handed.append(arguments)
        return IngestReport(AIRFLOW_LIKE)

    monkeypatch.setattr(ingest_command, "ready_settings", lambda: SETTINGS)
    monkeypatch.setattr(ingest_command, "exclusive_run", no_lock)
    monkeypatch.setattr(ingest_command, "_recorded_ingestion", ingestion)
    result = CliRunner().invoke(app, ["ingest", "ops", "--run-id", AIRFLOW_LIKE])
    assert result.exit_code == 0, result.output
    assert len(handed) == 1 and AIRFLOW_LIKE in handed[0]


def test_a_lake_export_records_under_the_given_id(monkeypatch: pytest.MonkeyPatch) -> None:
    handed: list[tuple[object, ...]] = []
    monkeypatch.setattr(ingest_command, "_export_to_lake", lambda *args: handed.append(args))
    result = CliRunner().invoke(app, ["ingest", "--destination", "lake", "--run-id", AIRFLOW_LIKE])
    assert result.exit_code == 0, result.output
    assert len(handed) == 1 and AIRFLOW_LIKE in handed[0]


def test_status_judges_the_given_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """The scheduled run's gate: red for its own failure, though a later run passed."""
    runs = [
        PipelineRun(
            run_id=AIRFLOW_LIKE, stage="ingest", source="ops", started_at=NOW, status="failed"
        ),
        PipelineRun(
            run_id="later",
            stage="ingest",
            source="ops",
            started_at=NOW.replace(hour=1),
            status="ok",
        ),
    ]
    asked: list[str | None] = []

    def read_status(_settings: object, last_runs: int, run_id: str | None) -> WarehouseStatus:
        asked.append(run_id)
        return WarehouseStatus(tables=[], tests=[], runs=runs, run_id=run_id)

    monkeypatch.setattr(status_command, "read_status", read_status)
    judged = CliRunner().invoke(app, ["status", "--run-id", AIRFLOW_LIKE])
    latest = CliRunner().invoke(app, ["status"])
    assert asked == [AIRFLOW_LIKE, None]
    assert judged.exit_code == 1, judged.output
    assert f"the run ({AIRFLOW_LIKE}) failed at: ingest ops" in " ".join(judged.output.split())
    assert latest.exit_code == 0, latest.output
