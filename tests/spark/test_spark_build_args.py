"""The Spark build's command line, as the production build's on Postgres
(transform/production_build.py): whole-history tests left out, no vars (the business day
reaches both engines in dbt's environment, so both answer for the same business day). Fast: dbt
is not run (the build itself: test_business_day_on_spark.py)."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from ingestion.settings import SPARK_TARGET, ConnectionSettings, Settings
from ingestion.spark import build as spark_build_module
from ingestion.transform.production_build import WHOLE_HISTORY_TESTS
from ingestion.transform.run_results import RunResults

CONNECTION = ConnectionSettings.__new__(ConnectionSettings)
PAST_DAY = date(2026, 3, 1)


def settings_for(day: date | None) -> Settings:
    return dataclasses.replace(Settings.from_environment(), business_date=day)


def handed_to_dbt(monkeypatch: pytest.MonkeyPatch, config: Settings) -> tuple[list[str], str]:
    """The arguments and the target ``spark_build`` runs dbt with, dbt itself left out."""
    calls: list[tuple[list[str], str | None]] = []

    def run_dbt(args: list[str], *_: object, target: str | None = None, **__: object) -> str:
        calls.append((args, target))
        return ""

    monkeypatch.setattr(spark_build_module, "run_dbt", run_dbt)
    monkeypatch.setattr(
        spark_build_module, "fresh_run_results", lambda *_, **__: RunResults("inv", "", [])
    )
    spark_build_module.spark_build(CONNECTION, config, project_dir=Path("/nowhere"))
    ((args, target),) = calls
    return args, target or ""


def test_the_spark_build_passes_no_vars_whatever_the_business_date(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The business date reaches dbt in its environment (``dbt_environment``), as on Postgres."""
    args, target = handed_to_dbt(monkeypatch, settings_for(PAST_DAY))
    assert target == SPARK_TARGET
    assert args[:3] == ["build", "--exclude", WHOLE_HISTORY_TESTS]
    assert "--vars" not in args


def test_without_a_business_date_the_spark_build_passes_no_vars(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args, _ = handed_to_dbt(monkeypatch, settings_for(None))
    assert "--vars" not in args
    assert spark_build_module.spark_build_args(settings_for(None), full_refresh=True) == [
        "build",
        "--exclude",
        WHOLE_HISTORY_TESTS,
        "--full-refresh",
    ]
