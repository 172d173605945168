"""Spark beside Postgres: the same dbt project built on each engine at a given scale.

Per scale, in a fresh throwaway world (``cli_world``):

1. ``shopflow run --scale S`` (Postgres, as a user runs it): its dbt-build stage is the
   Postgres full build;
2. the raw layer exported to a lake of the world's own (``lake.export_lake``), then ``dbt
   build --target spark`` into a Spark catalog of the world's own, from empty: the Spark full
   build;
3. ``shopflow run --tick 1``: the sources move on a day; its dbt-build stage is the Postgres
   one-day incremental build;
4. the lake exported again and ``dbt build --target spark`` again: the Spark one-day build;
5. every mart compared across the engines (``spark.parity``).

Writes the "Spark beside Postgres" section of docs/benchmarks.md (``scripts/benchmark spark``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ingestion.benchmarking.cli_world import CliWorld, throwaway_world
from ingestion.benchmarking.doc_sections import write_section
from ingestion.benchmarking.scale import TICK_DAYS, raw_rows
from ingestion.benchmarking.scale_benchmark import benchmark_arguments
from ingestion.database.server_settings import connection_settings
from ingestion.lake import export_lake
from ingestion.lake.layout import SOURCE_SCHEMAS
from ingestion.settings import ENV_HOME, ENV_LAKE_URL, REPO_ROOT, Settings
from ingestion.spark.build import spark_build
from ingestion.spark.marts import spark_mart_checksums
from ingestion.spark.parity import differences, postgres_checksums

log = logging.getLogger(__name__)

SECTION_TITLE = "## Spark beside Postgres"
DEFAULT_SCALES = (10.0, 100.0)
DBT_BUILD = "dbt-build"
Measured = TypeVar("Measured")


@dataclass(frozen=True)
class EngineRound:
    """One build on each engine after the same loads: seconds, and the lake export's."""

    postgres_build: float
    lake_export: float
    lake_rows: int
    spark_build: float


@dataclass(frozen=True)
class SparkScaleResult:
    scale: float
    raw_rows: int
    full: EngineRound
    one_day: EngineRound
    marts_compared: int
    marts_differing: list[str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]


def timed(action: Callable[[], Measured]) -> tuple[Measured, float]:
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def spark_round(
    world: CliWorld, postgres_build: float, lake: Path, home: Path, name: str
) -> EngineRound:
    """Export the world's raw layer to ``lake`` and build the project on Spark from it; the
    export is recorded as run ``benchmark-<name>``."""
    export, lake_seconds = timed(
        lambda: export_lake(
            world.settings, str(lake), list(SOURCE_SCHEMAS), run_id=f"benchmark-{name}"
        )
    )
    environment = {ENV_HOME: str(home), ENV_LAKE_URL: str(lake)}
    config = Settings.from_environment()  # the benchmark is an entry point, like the CLI
    _, build_seconds = timed(lambda: spark_build(world.settings, config, extra_env=environment))
    rows = sum(exported.entry.row_count for exported in export.tables)
    log.info(
        "postgres build %.1f s; lake export %.1f s (%s rows); spark build %.1f s",
        postgres_build,
        lake_seconds,
        f"{rows:,}",
        build_seconds,
    )
    return EngineRound(postgres_build, lake_seconds, rows, build_seconds)


def measure_scale(world: CliWorld, scale: float) -> SparkScaleResult:
    load_before = os.getloadavg()
    lake, home = world.folder / "lake", world.folder / "home"
    first = world.run("run", "--scale", f"{scale:g}")
    full = spark_round(world, first.stages[DBT_BUILD], lake, home, "full")
    ticked = world.run("run", "--tick", str(TICK_DAYS))
    one_day = spark_round(world, ticked.stages[DBT_BUILD], lake, home, "one-day")
    on_postgres = postgres_checksums(world.settings)
    differing = differences(on_postgres, spark_mart_checksums(home / "spark"))
    log.info("marts: %d compared, %d differ %s", len(on_postgres), len(differing), differing)
    return SparkScaleResult(
        scale,
        raw_rows(world),
        full,
        one_day,
        len(on_postgres),
        differing,
        load_before,
        os.getloadavg(),
    )


def _commit() -> str:
    completed = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    return completed.stdout.strip() or "unknown"


def render_section(results: list[SparkScaleResult], minutes: float) -> str:
    """The section: how it was measured, one row per scale and engine round, the parity."""
    when = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    lines = [
        SECTION_TITLE,
        "",
        "`scripts/benchmark spark` (default scales 10 and 100; `--scales` for others) builds a "
        "fresh world per scale in throwaway databases and runs, in order: `shopflow run --scale "
        "S` (its dbt-build stage is the Postgres full build); the raw layer exported to a lake "
        "of the world's own and `dbt build --target spark` from empty (the Spark full build, "
        "session method, `local[2]`, 2 GB driver); `shopflow run --tick 1` (the Postgres "
        "one-day build) and the lake export and Spark build again (the Spark one-day build); "
        "then every mart compared across the engines by engine-neutral checksums "
        "(ingestion/spark/parity.py). Seconds are wall-clock; the Spark build includes "
        "starting its JVM and registering the lake's tables.",
        "",
        f"Measured {when} UTC on {os.cpu_count()} vCPUs, local embedded PostgreSQL and local "
        f"Spark, commit {_commit()}; this invocation took {minutes:.0f} min.",
        "",
        "| scale | raw rows | build | Postgres dbt build s | lake export s | lake rows "
        "| Spark dbt build s | Spark / Postgres |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for label, measured in (("full, from empty", result.full), ("one-day", result.one_day)):
            ratio = measured.spark_build / measured.postgres_build
            lines.append(
                f"| {result.scale:g} | {result.raw_rows:,} | {label} "
                f"| {measured.postgres_build:.1f} | {measured.lake_export:.1f} "
                f"| {measured.lake_rows:,} | {measured.spark_build:.1f} | {ratio:.1f}x |"
            )
    lines += ["", "Marts after the one-day build, Spark against Postgres:", ""]
    for result in results:
        verdict = (
            "all equal"
            if not result.marts_differing
            else "differ: " + "; ".join(result.marts_differing)
        )
        lines.append(f"- scale {result.scale:g}: {result.marts_compared} marts, {verdict}.")
    lines += ["", "| scale | load average before (1/5/15 min) | after |", "|---:|---|---|"]
    for result in results:
        before = "/".join(f"{value:.2f}" for value in result.load_before)
        after = "/".join(f"{value:.2f}" for value in result.load_after)
        lines.append(f"| {result.scale:g} | {before} | {after} |")
    return "\n".join(lines) + "\n"


def benchmark(scales: list[float], workdir: Path | None, write_doc: bool) -> str:
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="shopflow-spark-", dir=workdir))
    results = []
    try:
        for scale in scales:
            with throwaway_world(connection_settings(), root, "shopflow_spark_") as world:
                results.append(measure_scale(world, scale))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    section = render_section(results, (time.perf_counter() - started) / 60)
    if write_doc:
        write_section(section)
        log.info("wrote the %s section of docs/benchmarks.md", SECTION_TITLE.removeprefix("## "))
    return section


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run the benchmark and print its section."""
    parser = benchmark_arguments("scripts/benchmark spark", __doc__, list(DEFAULT_SCALES))
    args = parser.parse_args(argv)
    print(benchmark(args.scales, args.workdir, write_doc=not args.no_write))


if __name__ == "__main__":
    main()
