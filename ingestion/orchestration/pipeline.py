"""The stages of `shopflow run`, in order: simulate -> ingest -> dbt build -> docs."""

from __future__ import annotations

from dataclasses import dataclass

from ingestion.orchestration.ingest_stage import ingest_stage
from ingestion.orchestration.stages import Stage
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.pipeline_step import prepare_sources
from ingestion.transform.dbt_runner import run_dbt
from ingestion.transform.slim_ci import publish_production_state


@dataclass(frozen=True)
class RunOptions:
    full_refresh: bool = False
    seed: int = 42
    scale: float = 1.0
    tick_days: int = 0


def simulate_stage(settings: ConnectionSettings, options: RunOptions) -> Stage:
    def action() -> str:
        return prepare_sources(settings, options.seed, options.scale, options.tick_days)

    return Stage("simulate", "source systems: build the world once, tick on request", action)


WHOLE_HISTORY_TESTS = "tag:whole_history"
"""Tests that recompute a large table's whole history (tests/dbt): left out of a run's build,
run by plain `dbt build`, tests/pipeline and `dbt test --select tag:whole_history`."""


def dbt_build_stage(settings: ConnectionSettings, options: RunOptions) -> Stage:
    def action() -> str:
        args = ["build", "--exclude", WHOLE_HISTORY_TESTS]
        args += ["--full-refresh"] if options.full_refresh else []
        output = run_dbt(args, settings)
        publish_production_state(settings)
        done = [line for line in output.splitlines() if "Done. PASS=" in line]
        return done[-1].split("Done. ", 1)[1].strip() if done else "done"

    return Stage("dbt build", "seeds, models, snapshots and tests", action)


def dbt_docs_stage(settings: ConnectionSettings) -> Stage:
    def action() -> str:
        run_dbt(["docs", "generate"], settings, stream=False)
        return "target/index.html, target/catalog.json"

    return Stage("dbt docs", "documentation and lineage", action)


def pipeline_stages(settings: ConnectionSettings, options: RunOptions) -> list[Stage]:
    return [
        simulate_stage(settings, options),
        ingest_stage(settings),
        dbt_build_stage(settings, options),
        dbt_docs_stage(settings),
    ]
