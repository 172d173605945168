"""The production build's dbt vars: the run id always, the business day when the run has one."""

from __future__ import annotations

import json

import pytest

from ingestion.settings import ENV_BUSINESS_DATE, ConnectionSettings, Settings
from ingestion.transform import production_build as build_module
from ingestion.transform.run_results import RunResults


def build_vars(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The ``--vars`` that ``production_build`` hands to dbt, with dbt itself left out."""
    called: list[list[str]] = []

    def invocation(args: list[str], *_: object) -> RunResults:
        called.append(args)
        return RunResults("inv", "", [])

    monkeypatch.setattr(build_module, "_production_invocation", invocation)
    monkeypatch.setattr(build_module, "measure_freshness", lambda *_: None)
    connection = ConnectionSettings.__new__(ConnectionSettings)
    build_module.production_build(connection, Settings.from_environment(), "run-1")
    (args,) = called
    return dict(json.loads(args[args.index("--vars") + 1]))


def test_without_a_business_date_only_the_run_id_is_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BUSINESS_DATE, raising=False)
    assert build_vars(monkeypatch) == {"shopflow_run_id": "run-1"}


def test_the_business_date_reaches_dbt_as_its_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_BUSINESS_DATE, "2025-12-01")
    assert build_vars(monkeypatch) == {
        "shopflow_run_id": "run-1",
        "business_date": "2025-12-01",
    }
