"""Scale benchmark: what `shopflow run` costs at scale 1, 10 and 100, and whether an
incremental build ends where a full refresh does.

For each scale, in a fresh throwaway world (``cli_world``), as a user runs it:

1. ``shopflow run --scale S`` from empty;
2. ``shopflow run --tick 1``: the sources move on a day, the pipeline runs again;
3. a checksum of every mart (``spark.mart_checksums``);
4. ``shopflow run --full-refresh``, then the marts' checksums again, compared with step 3.

Per run it keeps the wall-clock and stage seconds, rows loaded and raw rows, the process
tree's peak memory and the ten slowest nodes of the dbt build; per scale the load average
before and after. ``scale_report`` turns that into the "Scale" section of
docs/benchmarks.md and a chart.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ingestion.benchmarking.cli_world import CliRun, CliWorld, throwaway_world
from ingestion.settings import ConnectionSettings
from ingestion.spark.mart_checksums import differences, mart_checksums

log = logging.getLogger(__name__)

DEFAULT_SCALES = (1.0, 10.0, 100.0)
TICK_DAYS = 1
SLOWEST_NODES = 10

RAW_ROWS_QUERY = """
    select table_schema, table_name from information_schema.tables
    where table_schema like 'raw\\_%' and table_schema not like '%\\_staging'
      and table_schema not like '%\\_refresh' and table_name not like '\\_dlt\\_%'
      and table_type = 'BASE TABLE'
"""
ROWS_LOADED_QUERY = """
    select coalesce(sum(rows_loaded), 0) from audit.pipeline_runs
    where run_id = (select run_id from audit.pipeline_runs order by started_at desc limit 1)
"""
SLOWEST_NODES_QUERY = """
    select node_name, resource_type, execution_time from audit.dbt_results
    where invocation_id = (
        select invocation_id from audit.dbt_results where command = 'build'
        order by run_started_at desc limit 1
    )
    order by execution_time desc nulls last limit %s
"""


@dataclass(frozen=True)
class NodeTiming:
    """One node of a dbt build and its execution seconds."""

    name: str
    resource_type: str
    seconds: float


@dataclass(frozen=True)
class RunMeasure:
    """One `shopflow run` and what it left in the warehouse."""

    label: str
    run: CliRun
    rows_loaded: int
    """Rows the run's ingestion loaded (``audit.pipeline_runs``)."""
    raw_rows: int
    """Rows in the raw tables afterwards."""
    slowest: list[NodeTiming]
    """The slowest nodes of the run's dbt build (``audit.dbt_results``)."""

    def stage(self, name: str) -> float:
        """Seconds of one stage (``dbt build``, ``ingest``, ...) of this run."""
        return self.run.stages[name]


@dataclass(frozen=True)
class ScaleResult:
    """The three runs at one scale, the mart comparison and the load around them."""

    scale: float
    from_empty: RunMeasure
    after_tick: RunMeasure
    full_refresh: RunMeasure
    marts_compared: list[str]
    marts_differing: list[str]
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    @property
    def runs(self) -> tuple[RunMeasure, RunMeasure, RunMeasure]:
        return (self.from_empty, self.after_tick, self.full_refresh)


def raw_rows(world: CliWorld) -> int:
    """Exact row count of every raw table (dlt's bookkeeping tables left out)."""
    with_tables = world.query(RAW_ROWS_QUERY)
    return sum(
        int(world.query(f'select count(*) from "{schema}"."{table}"')[0][0])
        for schema, table in with_tables
    )


def slowest_nodes(world: CliWorld, limit: int = SLOWEST_NODES) -> list[NodeTiming]:
    """The slowest nodes of the last dbt build in this world."""
    rows = world.query(SLOWEST_NODES_QUERY, (limit,))
    return [NodeTiming(name, kind, float(seconds or 0.0)) for name, kind, seconds in rows]


def measured_run(world: CliWorld, label: str, *args: str) -> RunMeasure:
    """Run `shopflow run <args>` and read what it did from the warehouse."""
    run = world.run("run", *args)
    measure = RunMeasure(
        label,
        run,
        int(world.query(ROWS_LOADED_QUERY)[0][0]),
        raw_rows(world),
        slowest_nodes(world),
    )
    log.info(
        "%s: %.1f s (%s), %s raw rows, peak %.0f MB",
        label,
        run.seconds,
        ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.stages.items()),
        f"{measure.raw_rows:,}",
        run.memory.tree_peak_mb,
    )
    return measure


def measure_scale(world: CliWorld, scale: float) -> ScaleResult:
    """From empty, a one-day tick, a full refresh; marts compared before and after it."""
    load_before = os.getloadavg()
    from_empty = measured_run(world, "from empty", "--scale", f"{scale:g}")
    after_tick = measured_run(world, f"after a {TICK_DAYS}-day tick", "--tick", str(TICK_DAYS))
    incremental = mart_checksums(world.settings)
    full_refresh = measured_run(world, "full refresh", "--full-refresh")
    rebuilt = mart_checksums(world.settings)
    differing = differences(incremental, rebuilt)
    log.info("marts: %d compared, %d differ %s", len(rebuilt), len(differing), differing or "")
    return ScaleResult(
        scale,
        from_empty,
        after_tick,
        full_refresh,
        sorted(incremental.keys() | rebuilt.keys()),
        differing,
        load_before,
        os.getloadavg(),
    )


def run_scales(server: ConnectionSettings, scales: list[float], workdir: Path) -> list[ScaleResult]:
    """Each scale in its own throwaway world under ``workdir``, one after another."""
    results = []
    for scale in scales:
        log.info("scale %g: a fresh world under %s", scale, workdir)
        with throwaway_world(server, workdir) as world:
            results.append(measure_scale(world, scale))
    return results
