"""``Settings``: every setting a command works with, parsed from the environment once and
passed down as one frozen object (docs/configuration.md, "Read once, passed down")."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import pytest

from ingestion.settings import (
    ENV_ALERT_URL,
    ENV_BUSINESS_DATE,
    ENV_ENV_FILE,
    ENV_EXPORT_DIR,
    ENV_EXPORT_NEUTRALISE_FORMULAS,
    ENV_HOME,
    ENV_LAKE_URL,
    ENV_LANDING_DIR,
    ENV_NAMES,
    ENV_PACKAGE_ATTEMPTS,
    ENV_REPORT_DIR,
    ENV_TARGET,
    REPO_ROOT,
    Settings,
    SettingsError,
)


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of the project's variables set (the .env file was read at import: unset too)."""
    for name in ENV_NAMES:
        if name != ENV_ENV_FILE:
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults(no_settings: pytest.MonkeyPatch) -> None:
    resolved = Settings.from_environment()
    assert resolved.state_dir == REPO_ROOT / ".shopflow"
    assert resolved.landing_dir == REPO_ROOT / "data" / "landing"
    assert resolved.export_dir == REPO_ROOT / "exports"
    assert resolved.report_dir == REPO_ROOT / "reports"
    assert resolved.lake_url == str(REPO_ROOT / ".shopflow" / "lake")
    assert resolved.spark_dir == REPO_ROOT / ".shopflow" / "spark"
    assert (resolved.target, resolved.business_date) == ("dev", None)
    assert (resolved.package_attempts, resolved.export_neutralises_formulas) == (3, True)
    assert (resolved.alert_url, resolved.schema_prefix, resolved.storefront_base_url) == ("",) * 3


def test_every_value_is_parsed_from_its_variable(
    no_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_settings.setenv(ENV_HOME, str(tmp_path / "home"))
    no_settings.setenv(ENV_LANDING_DIR, str(tmp_path / "drops" / "landing"))
    no_settings.setenv(ENV_EXPORT_DIR, str(tmp_path / "out"))
    no_settings.setenv(ENV_REPORT_DIR, str(tmp_path / "report"))
    no_settings.setenv(ENV_BUSINESS_DATE, " 2026-03-01 ")
    no_settings.setenv(ENV_TARGET, "spark")
    no_settings.setenv(ENV_PACKAGE_ATTEMPTS, "5")
    no_settings.setenv(ENV_EXPORT_NEUTRALISE_FORMULAS, "no")
    no_settings.setenv(ENV_ALERT_URL, "json://localhost:1/")
    resolved = Settings.from_environment()
    assert resolved.state_dir == tmp_path / "home"
    assert resolved.lake_url == str(tmp_path / "home" / "lake")  # follows the state folder
    assert resolved.landing_dir == tmp_path / "drops" / "landing"
    assert (resolved.export_dir, resolved.report_dir) == (tmp_path / "out", tmp_path / "report")
    assert (resolved.business_date, resolved.target) == (date(2026, 3, 1), "spark")
    assert (resolved.package_attempts, resolved.export_neutralises_formulas) == (5, False)
    assert resolved.alert_url == "json://localhost:1/"
    no_settings.setenv(ENV_LAKE_URL, "s3://bucket/lake/")
    assert Settings.from_environment().lake_url == "s3://bucket/lake"


def test_the_quarantine_sits_beside_the_landing_folder(
    no_settings: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_settings.setenv(ENV_LANDING_DIR, str(tmp_path / "drops" / "landing"))
    assert Settings.from_environment().quarantine_dir == tmp_path / "drops" / "quarantine"
    moved = dataclasses.replace(Settings.from_environment(), landing_dir=tmp_path / "elsewhere")
    assert moved.quarantine_dir == tmp_path / "quarantine"


def test_it_is_frozen_and_read_once(no_settings: pytest.MonkeyPatch) -> None:
    """What a command resolved stays as it was, whatever the environment does afterwards."""
    resolved = Settings.from_environment()
    with pytest.raises(dataclasses.FrozenInstanceError):
        resolved.target = "spark"  # type: ignore[misc]
    no_settings.setenv(ENV_TARGET, "spark")
    assert resolved.target == "dev"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (ENV_TARGET, "duckdb", "SHOPFLOW_TARGET='duckdb' is not a target"),
        (ENV_BUSINESS_DATE, "01/03/2026", "SHOPFLOW_BUSINESS_DATE='01/03/2026' is not a date"),
        (ENV_PACKAGE_ATTEMPTS, "0", "SHOPFLOW_PACKAGE_ATTEMPTS='0'"),
    ],
)
def test_a_value_that_cannot_work_is_refused_by_name(
    no_settings: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    no_settings.setenv(name, value)
    with pytest.raises(SettingsError, match=message):
        Settings.from_environment()
