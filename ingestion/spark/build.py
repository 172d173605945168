"""`dbt build` on the spark target, from the lake: the dbt-build stage of `shopflow run
--target spark`.

Its artifacts go to ``<dbt target folder>/spark`` so that a Spark build never overwrites the
Postgres build's manifest or run results in the same folder; it keeps no production state
(slim CI and `shopflow status` follow the Postgres warehouse).
"""

from __future__ import annotations

import time
from pathlib import Path

from ingestion.settings import (
    ENV_DBT_TARGET_PATH,
    REPO_ROOT,
    SPARK_TARGET,
    ConnectionSettings,
    Settings,
)
from ingestion.transform.dbt_runner import DbtError, fresh_run_results, run_dbt, target_dir
from ingestion.transform.production_build import WHOLE_HISTORY_TESTS
from ingestion.transform.run_results import RunResults


def spark_target_dir(project_dir: Path = REPO_ROOT) -> Path:
    """Where a Spark build writes its manifest and run results."""
    return target_dir(project_dir) / SPARK_TARGET


def spark_build_args(config: Settings, full_refresh: bool = False) -> list[str]:
    """The arguments of the Spark build: whole-history tests excluded, as in the production
    build on Postgres (the business day reaches both in dbt's environment, so both answer for
    the same day)."""
    return [
        "build",
        "--exclude",
        WHOLE_HISTORY_TESTS,
        *(["--full-refresh"] if full_refresh else []),
    ]


def spark_build(
    settings: ConnectionSettings,
    config: Settings,
    full_refresh: bool = False,
    project_dir: Path = REPO_ROOT,
    extra_env: dict[str, str] | None = None,
) -> RunResults:
    """``dbt build --target spark`` (``spark_build_args``); raises DbtError (with the results,
    when dbt wrote any) on failure."""
    artifacts = spark_target_dir(project_dir)
    started = time.time()
    run_dbt(
        spark_build_args(config, full_refresh),
        settings,
        config,
        project_dir=project_dir,
        extra_env={ENV_DBT_TARGET_PATH: str(artifacts), **(extra_env or {})},
        target=SPARK_TARGET,
    )
    results = fresh_run_results(artifacts, since=started)
    if results is None:
        raise DbtError(f"dbt build on Spark wrote no run results in {artifacts}")
    return results
