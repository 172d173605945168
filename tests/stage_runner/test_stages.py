"""Running stages (one sentence per failure, every stage reported) and choosing a part of them."""

from __future__ import annotations

import pytest

from ingestion.stage_runner.pipeline import StageSelectionError, select_stages
from ingestion.stage_runner.stages import Stage, StageOutcome, StageResult, run_stages
from ingestion.transform.dbt_runner import DbtError
from ingestion.transform.run_results import NodeResult, RunResults


def stage(name: str, detail: str = "done") -> Stage:
    return Stage(name, f"the {name} stage", lambda: detail)


STAGES = [stage(name) for name in ("simulate", "ingest", "dbt-build", "docs")]


def test_every_stage_is_reported_and_those_after_a_failure_are_skipped() -> None:
    def broken() -> str:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as exc:
            raise RuntimeError("Pipeline execution failed at `step=extract`\n<class ...>") from exc

    finished: list[StageResult] = []
    results = run_stages(
        [stage("simulate"), Stage("ingest", "", broken), stage("dbt-build")],
        on_finish=finished.append,
    )

    assert [(r.name, r.status) for r in results] == [
        ("simulate", "ok"),
        ("ingest", "failed"),
        ("dbt-build", "skipped"),
    ]
    assert finished == results
    assert results[1].detail == "connection refused"
    assert results[0].started_at is not None and results[0].finished_at is not None


def test_a_dbt_stage_keeps_its_invocation_id_whether_it_passes_or_fails() -> None:
    results = RunResults("inv-9", "", [NodeResult("model.shopflow.a", "error", "boom", None)])

    def failing_build() -> str:
        raise DbtError("dbt build failed: 1 of 1 dbt nodes failed: model a: boom", results)

    passed, failed = run_stages(
        [
            Stage("dbt-build", "", lambda: StageOutcome("370 nodes", "inv-8")),
            Stage("dbt-build", "", failing_build),
        ]
    )
    assert (passed.dbt_invocation_id, passed.detail) == ("inv-8", "370 nodes")
    assert failed.dbt_invocation_id == "inv-9"
    assert failed.detail == "dbt build failed: 1 of 1 dbt nodes failed: model a: boom"


def test_from_and_only_choose_the_stages() -> None:
    assert [s.name for s in select_stages(STAGES)] == ["simulate", "ingest", "dbt-build", "docs"]
    assert [s.name for s in select_stages(STAGES, start="dbt-build")] == ["dbt-build", "docs"]
    assert [s.name for s in select_stages(STAGES, only="ingest")] == ["ingest"]


def test_an_unknown_stage_is_refused_with_the_valid_names() -> None:
    with pytest.raises(StageSelectionError, match="simulate, ingest, dbt-build, docs"):
        select_stages(STAGES, start="dbt build")
