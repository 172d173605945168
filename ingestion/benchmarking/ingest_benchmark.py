"""Events ingestion benchmark: our pipeline vs raw psycopg COPY vs pandas ``to_sql``.

All three load the same synthetic clickstream events (the documented JSON-lines shape) into
throwaway databases on the configured server, in one run:

- **our pipeline**: the ``files`` source's ``events`` unit end to end, as `shopflow ingest`
  runs it (list the files, read the JSON lines with Arrow, flatten, validate, drop repeated
  ids, write csv load files that dlt imports, COPY into dlt's staging table, ``insert-only``
  merge on ``event_id``), timed from the start of the run to the rows being committed;
- **psycopg COPY from the files** (the ceiling for loading these files): read each JSON-lines
  file with Arrow, flatten the nested fields, write CSV to a buffer, ``COPY ... FROM STDIN``
  into a plain table, timed from the files to the committed rows;
- **psycopg COPY from memory** (for reference): the already flattened rows, as CSV in
  memory beforehand; only the ``COPY`` is timed;
- **pandas to_sql**: the tutorial way, timed from the files to the committed rows:
  ``pd.read_json(lines=True)``, ``pd.json_normalize`` of the nested fields, then
  ``to_sql(chunksize=10_000)``.

Ours and COPY from the files run ``RATE_REPEATS`` times, alternating, and the median run
counts: on a shared 2-vCPU machine one run can be off by a fifth either way.

Peak memory of our pipeline is measured in separate subprocesses ingesting 1M and 5M events,
as the child's own high-water mark (``VmHWM``): ``ru_maxrss`` would not do, since Linux
carries the parent's peak over into a forked and exec'ed child.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

import dlt
import psycopg2.errors

from ingestion.benchmarking.cli_world import extra_warehouse
from ingestion.benchmarking.doc_sections import write_section
from ingestion.benchmarking.ingest_baselines import (
    MEMORY_ROWS,
    RATE_REPEATS,
    RATE_ROWS,
    RateResult,
    copy_events_from_files,
    copy_events_from_memory,
    flattened_events,
    pandas_events,
    write_event_files,
)
from ingestion.benchmarking.ingest_report import render_section
from ingestion.database.connection import autocommit, one_row
from ingestion.database.server_settings import connection_settings
from ingestion.loading.registry import SOURCES, IngestContext
from ingestion.loading.runner import run_source
from ingestion.loading.runtime import pipeline_name, pipelines_dir
from ingestion.settings import ConnectionSettings, Settings
from ingestion.sources.files.settings import DATASET_NAME as FILES_DATASET

log = logging.getLogger(__name__)


def scratch_database(server: ConnectionSettings) -> AbstractContextManager[ConnectionSettings]:
    """A throwaway warehouse database (and its dlt state folder), dropped afterwards."""
    name = f"shopflow_bench_{uuid.uuid4().hex[:8]}"
    return extra_warehouse(server.with_databases(server.database, f"{name}_ops"), name)


def ingest_events(settings: ConnectionSettings, landing: Path) -> RateResult:
    """Our pipeline: the files source's events unit, timed end to end.

    Checks that every event is in ``raw_files.events`` afterwards, so the rate counts rows
    that really landed.
    """
    spec = SOURCES["files"]
    events_only = type(spec)(**{**spec.__dict__, "units": spec.units[:1]})
    # the benchmark is an entry point, like the CLI: it resolves the settings, its own landing
    config = replace(Settings.from_environment(), landing_dir=landing)
    run = run_source(events_only, IngestContext(settings=settings, config=config))
    unit = run.units[0]
    if unit.status != "ok":
        raise RuntimeError(f"the events load failed: {unit.error}")
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(f"select count(*) from {FILES_DATASET}.events")
        in_table = one_row(cursor)[0]
    if in_table != unit.rows_loaded:
        raise RuntimeError(f"{unit.rows_loaded} rows loaded but {in_table} in the table")
    return RateResult(
        "our events pipeline (files -> table: dlt, Arrow, csv/COPY, insert-only merge)",
        in_table,
        (unit.seconds,),
    )


def step_seconds(settings: ConnectionSettings) -> dict[str, float]:
    """Seconds of the extract, normalize and load steps of the last files pipeline run."""
    pipeline = dlt.attach(
        pipeline_name=pipeline_name("files"), pipelines_dir=str(pipelines_dir(settings))
    )
    trace = pipeline.last_trace
    return {
        step.step: (step.finished_at - step.started_at).total_seconds()
        for step in (trace.steps if trace else [])
        if step.step in ("extract", "normalize", "load") and step.finished_at
    }


def peak_memory_mb(landing: Path) -> float:
    """Peak RSS (MB) of a fresh process ingesting the events under ``landing``."""
    output = subprocess.run(
        [sys.executable, "-m", "ingestion.benchmarking.ingest_benchmark", "memory", str(landing)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return float(output.strip().splitlines()[-1])


def memory_child(landing: Path) -> None:
    """Subprocess entry: ingest the events under ``landing``, print the peak RSS in MB."""
    with scratch_database(connection_settings()) as settings:
        ingest_events(settings, landing)
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(peak_kb / 1024)


def checkpoint(settings: ConnectionSettings) -> None:
    """``CHECKPOINT``, so that no timed method pays for writing out the pages of the one
    before it (skipped, with a note in the log, where the role may not run it)."""
    try:
        with autocommit(settings, settings.database) as cursor:
            cursor.execute("checkpoint")
    except psycopg2.errors.InsufficientPrivilege:
        log.info("this role may not run CHECKPOINT; methods may pay for each other's writes")


@dataclass
class RateRuns:
    """The alternating timed runs of ours and of COPY from the files."""

    ours: RateResult
    copied: RateResult
    steps: dict[str, float]
    """Seconds per dlt step of our median run."""


def rate_runs(server: ConnectionSettings, folder: Path, repeats: int = RATE_REPEATS) -> RateRuns:
    """Ours and COPY from the files, ``repeats`` times each in a fresh database, alternating
    which goes first; a checkpoint before every timed run."""
    ours: list[RateResult] = []
    copied: list[RateResult] = []
    steps: list[dict[str, float]] = []
    for repeat in range(repeats):
        with scratch_database(server) as settings:
            order = ("ours", "copy") if repeat % 2 == 0 else ("copy", "ours")
            for method in order:
                checkpoint(settings)
                if method == "ours":
                    ours.append(ingest_events(settings, folder))
                    steps.append(step_seconds(settings))
                else:
                    copied.append(copy_events_from_files(settings, folder))
            log.info(
                "run %d: ours %.2f s, COPY from the files %.2f s",
                repeat + 1,
                ours[-1].seconds,
                copied[-1].seconds,
            )
    median_run = sorted(range(repeats), key=lambda i: ours[i].seconds)[repeats // 2]
    return RateRuns(
        functools.reduce(RateResult.merged, ours),
        functools.reduce(RateResult.merged, copied),
        steps[median_run],
    )


def run_benchmark(write_doc: bool = True) -> str:
    """Run every measurement and (optionally) write the section; returns the section."""
    server = connection_settings()
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="shopflow-bench-") as tmp:
        root = Path(tmp)
        folders = {rows: root / f"events_{rows}" / "landing" for rows in MEMORY_ROWS}
        for rows, folder in folders.items():
            log.info("writing %s synthetic events", f"{rows:,}")
            write_event_files(folder, rows)
        rate_folder = folders[RATE_ROWS]
        load_before = os.getloadavg()[0]
        runs = rate_runs(server, rate_folder)
        with scratch_database(server) as settings:
            checkpoint(settings)
            from_memory = copy_events_from_memory(settings, flattened_events(rate_folder))
            checkpoint(settings)
            pandas_rate = pandas_events(settings, rate_folder)
        load_after = os.getloadavg()[0]
        memory = {rows: peak_memory_mb(folder) for rows, folder in folders.items()}
    when = time.strftime("%Y-%m-%d %H:%M")
    section = render_section(
        [runs.ours, runs.copied, from_memory, pandas_rate],
        memory,
        when,
        (load_start, load_before, load_after),
        runs.steps,
    )
    if write_doc:
        write_section(section)
    return section


def main(argv: list[str] | None = None) -> None:
    """``scripts/benchmark`` entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the benchmark and update docs/benchmarks.md")
    run.add_argument("--no-write", action="store_true", help="print, do not edit the doc")
    child = sub.add_parser("memory", help=argparse.SUPPRESS)
    child.add_argument("landing", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("dlt").setLevel(logging.ERROR)
    if args.command == "memory":
        memory_child(args.landing)
        return
    print(run_benchmark(write_doc=not getattr(args, "no_write", False)))


if __name__ == "__main__":
    main()
