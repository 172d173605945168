"""`shopflow run --target spark` on a fresh world, as a user runs it: every stage passes
(simulate, ingest, history, lake, dbt-build) and the marts stand in the Spark catalog.

The world's Postgres is reached as an external server (``SHOPFLOW_PG_HOST``), so the command
can have a state folder of its own (``SHOPFLOW_HOME``: its Spark catalog, its lake) without
looking for the local server's files there.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ingestion.benchmarking.cli_world import CliWorld, throwaway_world
from ingestion.settings import ENV_HOME, ENV_TARGET, ConnectionSettings
from ingestion.spark.marts import spark_mart_checksums

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.integration]

SPARK_STAGES = ["simulate", "ingest", "history", "lake", "dbt-build"]


def test_a_spark_run_from_empty_builds_every_mart_on_spark(
    server_settings: ConnectionSettings,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = tmp_path_factory.mktemp("spark-run")
    home = folder / "home"
    with throwaway_world(server_settings, folder, "shopflow_sparkrun_") as world:
        # the run's own state folder, for the run alone: dropping the world afterwards needs
        # the local server's administrator, whose password lives in the session's state folder
        with monkeypatch.context() as scoped:
            scoped.setenv(ENV_HOME, str(home))
            scoped.delenv(ENV_TARGET, raising=False)
            external = CliWorld(replace(world.settings, external=True), world.folder)
            run = external.run("run", "--target", "spark", "--scale", "0.1")
        assert list(run.stages) == SPARK_STAGES, run.output[-3000:]

        stages = world.query(
            "select stage, status from audit.pipeline_runs where command = 'run'"
            " and source = '' order by started_at"
        )
        assert [stage for stage, _ in stages] == ["simulate", "history", "dbt-build"]
        assert {status for _, status in stages} == {"ok"}
        lake_sources = world.query(
            "select source from audit.pipeline_runs where stage = 'lake' and status = 'ok'"
        )
        assert sorted(source for (source,) in lake_sources) == ["files", "ops", "storefront"]
        # Postgres built the snapshots and what they read, not the marts
        assert world.query(
            "select count(*) from information_schema.tables where table_schema = 'marts'"
        ) == [(0,)]
        assert (home / "lake" / "_manifest.json").exists()

    marts = spark_mart_checksums(home / "spark")
    assert len(marts) >= 20, sorted(marts)
    assert all(mart.rows > 0 for mart in marts.values()), {n: m.rows for n, m in marts.items()}
