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
import io
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dlt
import numpy as np
import pandas as pd
import psycopg2.errors
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pj
import sqlalchemy as sa

from ingestion.benchmarking.doc_sections import write_section
from ingestion.database.connection import autocommit, connect, create_database, drop_database
from ingestion.loading.registry import SOURCES, IngestContext
from ingestion.loading.runner import run_source
from ingestion.loading.runtime import pipeline_name, pipelines_dir
from ingestion.settings import ConnectionSettings, connection_settings
from ingestion.sources.files.helpers import event_chunks
from ingestion.sources.files.settings import DATASET_NAME as FILES_DATASET
from ingestion.sources.ops.helpers import psycopg2_url

log = logging.getLogger(__name__)

EVENTS_PER_FILE = 100_000
RATE_ROWS = 1_000_000
RATE_REPEATS = 5
"""Timed runs of ours and of COPY from the files, alternating; the median run counts."""
MEMORY_ROWS = (1_000_000, 5_000_000)
PANDAS_CHUNK = 10_000
SECTION_TITLE = "## Ingestion"

EVENT_NAMES = np.array(["view", "click", "add_to_cart", "purchase"])
PLATFORMS = np.array(["web", "app"])


@dataclass(frozen=True)
class RateResult:
    """Rows per second of one loading method, over one or more timed runs."""

    method: str
    rows: int
    runs: tuple[float, ...]

    @property
    def seconds(self) -> float:
        """The median run (the middle one of an odd number of runs)."""
        return statistics.median(self.runs)

    @property
    def rows_per_second(self) -> float:
        """Throughput of the median run."""
        return self.rows / self.seconds if self.seconds else 0.0

    def merged(self, other: RateResult) -> RateResult:
        """This method's runs together with ``other``'s (the same method, measured again)."""
        if (other.method, other.rows) != (self.method, self.rows):
            raise ValueError(f"cannot merge runs of {other.method!r} into {self.method!r}")
        return RateResult(self.method, self.rows, self.runs + other.runs)


def write_event_files(folder: Path, rows: int, seed: int = 7) -> None:
    """Synthetic events in ``clickstream/events_<day>_1.jsonl`` files of 100k lines each."""
    target = folder / "clickstream"
    target.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for start in range(0, rows, EVENTS_PER_FILE):
        count = min(EVENTS_PER_FILE, rows - start)
        ids = np.arange(start, start + count)
        names = EVENT_NAMES[rng.integers(0, 4, count)]
        platforms = PLATFORMS[rng.integers(0, 2, count)]
        customers = rng.integers(1, 100_000, count)
        products = rng.integers(1, 50_000, count)
        seconds = rng.integers(0, 365 * 86_400, count)
        stamps = (np.datetime64("2025-01-01T00:00:00") + seconds.astype("timedelta64[s]")).astype(
            str
        )
        lines = [
            json.dumps(
                {
                    "event_id": f"{uuid.UUID(int=int(i) + 1)}",
                    "timestamp": f"{stamp}Z",
                    "event_name": str(name),
                    "user_identifiers": {"platform": str(platform), "id": str(customer)},
                    "product_information": {
                        "name": f"Product {product}",
                        "SKU": f"SKU-{product:06d}",
                    },
                    "order_id": int(i) if name == "purchase" else None,
                }
            )
            for i, stamp, name, platform, customer, product in zip(
                ids, stamps, names, platforms, customers, products, strict=True
            )
        ]
        day = 20250101 + start // EVENTS_PER_FILE
        (target / f"events_{day}_1.jsonl").write_text("\n".join(lines) + "\n")


def flattened_events(folder: Path) -> pa.Table:
    """The rows our pipeline would load, flattened and typed (for the COPY and pandas runs)."""
    tables = []
    for path in event_files(folder):
        for table, _ in event_chunks(path, path.relative_to(folder).as_posix()):
            tables.append(table)
    return pa.concat_tables(tables)


@contextmanager
def scratch_database(server: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """A throwaway warehouse database (and its dlt state folder), dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    settings = server.with_databases(f"shopflow_bench_{suffix}", f"shopflow_bench_{suffix}_ops")
    create_database(settings, settings.database)
    try:
        yield settings
    finally:
        drop_database(settings, settings.database)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)


def ingest_events(settings: ConnectionSettings, landing: Path) -> RateResult:
    """Our pipeline: the files source's events unit, timed end to end.

    Checks that every event is in ``raw_files.events`` afterwards, so the rate counts rows
    that really landed.
    """
    spec = SOURCES["files"]
    events_only = type(spec)(**{**spec.__dict__, "units": spec.units[:1]})
    run = run_source(events_only, IngestContext(settings=settings, landing=landing))
    unit = run.units[0]
    if unit.status != "ok":
        raise RuntimeError(f"the events load failed: {unit.error}")
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(f"select count(*) from {FILES_DATASET}.events")
        in_table = cursor.fetchone()[0]
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


COPY_TABLE_COLUMNS = (
    "event_id text, timestamp timestamptz, event_name text, user_identifiers__platform text,"
    " user_identifiers__id text, product_information__name text,"
    " product_information__sku text, order_id bigint, source_file text"
)


def event_files(folder: Path) -> list[Path]:
    """The JSON-lines files of the events under a landing folder, in name order."""
    return sorted((folder / "clickstream").glob("*.jsonl"))


def _copy_csv(settings: ConnectionSettings, table_name: str, buffers: Iterator[io.BytesIO]) -> None:
    """``CREATE TABLE`` then one ``COPY ... FROM STDIN`` per CSV buffer, in one transaction."""
    conn = connect(settings)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(f"create table {table_name} ({COPY_TABLE_COLUMNS})")
            for buffer in buffers:
                buffer.seek(0)
                cursor.copy_expert(f"copy {table_name} from stdin with (format csv)", buffer)
    finally:
        conn.close()


def _csv_buffer(table: pa.Table) -> io.BytesIO:
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    return buffer


def copy_events_from_files(settings: ConnectionSettings, folder: Path) -> RateResult:
    """The ceiling for loading files: per file, Arrow reads and flattens the JSON lines, writes
    CSV to a buffer, ``COPY ... FROM STDIN``; timed from the files to the committed rows.

    The timestamp stays ISO text in the CSV: Postgres parses it into ``timestamptz``.
    """
    rows = 0

    def buffers() -> Iterator[io.BytesIO]:
        nonlocal rows
        for path in event_files(folder):
            table = pj.read_json(path).flatten()
            rows += table.num_rows
            table = table.append_column(
                "source_file", pa.repeat(pa.scalar(path.relative_to(folder).as_posix()), len(table))
            )
            yield _csv_buffer(table)

    started = time.perf_counter()
    _copy_csv(settings, "bench_copy_files", buffers())
    seconds = time.perf_counter() - started
    return RateResult("raw psycopg COPY from the files (ceiling)", rows, (seconds,))


def copy_events_from_memory(settings: ConnectionSettings, table: pa.Table) -> RateResult:
    """For reference: rows already flattened and written as CSV in memory; only the ``COPY``
    is timed."""
    buffer = _csv_buffer(table)
    started = time.perf_counter()
    _copy_csv(settings, "bench_copy_memory", iter([buffer]))
    seconds = time.perf_counter() - started
    return RateResult("raw psycopg COPY from memory (reference)", table.num_rows, (seconds,))


def pandas_events(settings: ConnectionSettings, folder: Path) -> RateResult:
    """What most tutorials do, timed from the files to the committed rows: per file
    ``pd.read_json(lines=True)``, ``pd.json_normalize`` of the nested fields, then
    ``DataFrame.to_sql(chunksize=10_000)``."""
    engine = sa.create_engine(psycopg2_url(settings.warehouse_url))
    rows = 0
    try:
        started = time.perf_counter()
        for path in event_files(folder):
            frame = pd.read_json(path, lines=True, dtype={"order_id": "Int64"})
            frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
            for nested in ("user_identifiers", "product_information"):
                flat = pd.json_normalize(frame.pop(nested).tolist())
                frame[[f"{nested}__{name.lower()}" for name in flat.columns]] = flat.to_numpy()
            frame["source_file"] = path.relative_to(folder).as_posix()
            frame.to_sql(
                "bench_pandas", engine, index=False, chunksize=PANDAS_CHUNK, if_exists="append"
            )
            rows += len(frame)
        seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    return RateResult(f"pandas read_json + to_sql (chunksize={PANDAS_CHUNK:,})", rows, (seconds,))


def peak_memory_mb(landing: Path) -> float:
    """Peak RSS (MB) of a fresh process ingesting the events under ``landing``."""
    output = subprocess.run(
        [sys.executable, "-m", "ingestion.loading.benchmark", "memory", str(landing)],
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


def met(condition: bool) -> str:
    """``met`` or ``NOT met``."""
    return "met" if condition else "**NOT met**"


def render_section(
    rates: list[RateResult],
    memory: dict[int, float],
    when: str,
    load_average: tuple[float, float, float],
    steps: dict[str, float],
) -> str:
    """The "Ingestion" section of docs/benchmarks.md."""
    ours, copy_rate, memory_rate, pandas_rate = (rate.rows_per_second for rate in rates)
    lines = [
        SECTION_TITLE,
        "",
        f"`scripts/benchmark` (measured {when}; {os.cpu_count()} vCPUs, local embedded"
        " PostgreSQL, `fsync=off`; 1-minute load average"
        f" {load_average[0]:.2f} at the start, {load_average[1]:.2f} after writing the test"
        f" files (this process's own work) and {load_average[2]:.2f} after the rate runs)."
        f" {RATE_ROWS:,} synthetic clickstream events in 10 JSON-lines files of 100k, the"
        " documented nested shape. Every method loads the same rows into the same server;"
        " all but the reference COPY start from the same files on disk and are timed until"
        f" the rows are committed. Ours and COPY from the files run {RATE_REPEATS} times each,"
        " alternating which goes first, each pair in a fresh database; the median run counts."
        " A `CHECKPOINT` precedes every timed run, so no method pays for writing out another's"
        " pages.",
        "",
        "| method | rows | runs | seconds (median) | range | rows/s | vs COPY from files"
        " | vs COPY from memory | vs pandas |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for rate in rates:
        lines.append(
            f"| {rate.method} | {rate.rows:,} | {len(rate.runs)} | {rate.seconds:.1f} | "
            f"{min(rate.runs):.1f}-{max(rate.runs):.1f} | "
            f"{rate.rows_per_second:,.0f} | {rate.rows_per_second / copy_rate:.2f}x | "
            f"{rate.rows_per_second / memory_rate:.2f}x | "
            f"{rate.rows_per_second / pandas_rate:.1f}x |"
        )
    one, five = (memory[n] for n in MEMORY_ROWS)
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
    ours_runs, copy_runs = rates[0].runs, rates[1].runs
    pairs = sorted(c / o for o, c in zip(ours_runs, copy_runs, strict=True))
    lines += [
        "",
        f"Targets: ours >= 0.5x COPY from the files ({met(ours >= 0.5 * copy_rate)}: "
        f"{ours / copy_rate:.2f}x; run by run {', '.join(f'{r:.2f}x' for r in pairs)}),"
        f" >= 10x pandas ({met(ours >= 10 * pandas_rate)}: {ours / pandas_rate:.1f}x), peak"
        f" memory 5M / 1M <= 1.5 ({met(five <= 1.5 * one)}: {five / one:.2f}). Against"
        f" COPY from memory, which starts from rows already parsed, ours is"
        f" {ours / memory_rate:.2f}x.",
        "",
        "How each is measured:",
        "",
        "- ours: `run_source` on the `files` source's `events` unit, the code `shopflow"
        " ingest` runs, timed from the start of the run until the rows are committed: list"
        " the files, parse the JSON lines (Arrow), flatten and validate (Arrow compute), drop"
        " ids repeated within the run, write csv load files that dlt imports as they are,"
        " COPY them into dlt's staging table, then the `insert-only` merge into"
        " `raw_files.events`; the benchmark checks the row count in the table afterwards."
        f" Steps of the median run: {phases}.",
        "- psycopg COPY from the files (the ceiling for loading files): per file, Arrow"
        " reads the JSON lines and flattens the nested fields, writes CSV to a buffer and"
        " `COPY ... FROM STDIN` loads it into a plain table (no validation, no dedup, no"
        " bookkeeping; Postgres parses the timestamp text); timed from the files to the"
        " committed rows.",
        "- psycopg COPY from memory (reference only): the same rows already parsed, flattened"
        " and written as CSV to a buffer beforehand; only the COPY is timed.",
        "- pandas (what most tutorials do): per file `pd.read_json(lines=True)`,"
        " `pd.json_normalize` of the nested fields, then"
        f" `to_sql(chunksize={PANDAS_CHUNK:,})`; timed from the files to the committed rows.",
        "",
        "| peak memory of `ingest` (events only, fresh process) | MB |",
        "|---|---:|",
        f"| 1M events | {one:,.0f} |",
        f"| 5M events | {five:,.0f} |",
        f"| ratio 5M / 1M (target <= 1.5) | {five / one:.2f} |",
        "",
        "Reproduce: `scripts/benchmark` (about 4 minutes; needs ~2 GB in the temp folder)."
        " Where the time goes, what was tried and why memory stays flat: the next section.",
        "",
    ]
    return "\n".join(lines)


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
