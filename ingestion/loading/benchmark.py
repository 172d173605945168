"""Events ingestion benchmark: our pipeline vs raw psycopg COPY vs pandas ``to_sql``.

All three load the same synthetic clickstream events (the documented JSON-lines shape) into
a throwaway database on the configured server, in one run:

- **our pipeline**: the ``files`` source's ``events`` unit end to end, as `shopflow ingest`
  runs it (list the files, read the JSON lines with Arrow, flatten, validate, drop repeated
  ids, dlt extract/normalize to csv, COPY into dlt's staging table, ``insert-only`` merge on
  ``event_id``), timed from the start of the run to the rows being committed in the table;
- **psycopg COPY from the files** (the ceiling for loading these files): read each JSON-lines
  file with Arrow, flatten the nested fields, write CSV to a buffer, ``COPY ... FROM STDIN``
  into a plain table, timed from the files to the committed rows;
- **psycopg COPY from memory** (for reference): the already flattened rows, as CSV in
  memory beforehand; only the ``COPY`` is timed;
- **pandas to_sql**: the tutorial way, timed from the files to the committed rows:
  ``pd.read_json(lines=True)``, ``pd.json_normalize`` of the nested fields, then
  ``to_sql(chunksize=10_000)``.

Peak memory of our pipeline is measured in separate subprocesses ingesting 1M and 5M events,
as the child's own high-water mark (``VmHWM``): ``ru_maxrss`` would not do, since Linux
carries the parent's peak over into a forked and exec'ed child.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import shutil
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
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pj
import sqlalchemy as sa

from ingestion.database.connection import autocommit, connect, create_database, drop_database
from ingestion.loading.registry import SOURCES, IngestContext
from ingestion.loading.runner import run_source
from ingestion.loading.runtime import pipeline_name, pipelines_dir
from ingestion.settings import REPO_ROOT, ConnectionSettings, connection_settings
from ingestion.sources.files.helpers import event_chunks
from ingestion.sources.files.settings import DATASET_NAME as FILES_DATASET
from ingestion.sources.ops.helpers import psycopg2_url

log = logging.getLogger(__name__)

EVENTS_PER_FILE = 100_000
RATE_ROWS = 1_000_000
MEMORY_ROWS = (1_000_000, 5_000_000)
PANDAS_CHUNK = 10_000
BENCHMARKS_DOC = REPO_ROOT / "docs" / "benchmarks.md"
SECTION_TITLE = "## Ingestion"

EVENT_NAMES = np.array(["view", "click", "add_to_cart", "purchase"])
PLATFORMS = np.array(["web", "app"])


@dataclass(frozen=True)
class RateResult:
    """Rows per second of one loading method."""

    method: str
    rows: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        """Throughput."""
        return self.rows / self.seconds if self.seconds else 0.0


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
        unit.seconds,
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
    return RateResult("raw psycopg COPY from the files (ceiling)", rows, seconds)


def copy_events_from_memory(settings: ConnectionSettings, table: pa.Table) -> RateResult:
    """For reference: rows already flattened and written as CSV in memory; only the ``COPY``
    is timed."""
    buffer = _csv_buffer(table)
    started = time.perf_counter()
    _copy_csv(settings, "bench_copy_memory", iter([buffer]))
    seconds = time.perf_counter() - started
    return RateResult("raw psycopg COPY from memory (reference)", table.num_rows, seconds)


def pandas_events(settings: ConnectionSettings, folder: Path) -> RateResult:
    """What most tutorials do, timed from the files to the committed rows: per file
    ``pd.read_json(lines=True)``, ``pd.json_normalize`` of the nested fields, then
    ``DataFrame.to_sql(chunksize=10_000)``."""
    engine = sa.create_engine(psycopg2_url(settings.warehouse_url))
    rows = 0
    try:
        started = time.perf_counter()
        for path in event_files(folder):
            frame = pd.read_json(
                path, lines=True, dtype={"order_id": "Int64"}, convert_dates=["timestamp"]
            )
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
    return RateResult(f"pandas read_json + to_sql (chunksize={PANDAS_CHUNK:,})", rows, seconds)


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
        " documented nested shape. Every method loads the same rows into the same server in"
        " one run; all but the reference COPY start from the same files on disk and are timed"
        " until the rows are committed.",
        "",
        "| method | rows | seconds | rows/s | vs COPY from files | vs COPY from memory"
        " | vs pandas |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for rate in rates:
        lines.append(
            f"| {rate.method} | {rate.rows:,} | {rate.seconds:.1f} | "
            f"{rate.rows_per_second:,.0f} | {rate.rows_per_second / copy_rate:.2f}x | "
            f"{rate.rows_per_second / memory_rate:.2f}x | "
            f"{rate.rows_per_second / pandas_rate:.1f}x |"
        )
    one, five = (memory[n] for n in MEMORY_ROWS)
    phases = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in steps.items())
    lines += [
        "",
        f"Targets: ours >= 0.5x COPY from the files ({met(ours >= 0.5 * copy_rate)}: "
        f"{ours / copy_rate:.2f}x; against COPY from memory it would be"
        f" {met(ours >= 0.5 * memory_rate)}: {ours / memory_rate:.2f}x), >= 10x pandas"
        f" ({met(ours >= 10 * pandas_rate)}: "
        f"{ours / pandas_rate:.1f}x), peak memory 5M / 1M <= 1.5"
        f" ({met(five <= 1.5 * one)}: {five / one:.2f}).",
        "",
        "How each is measured:",
        "",
        "- ours: `run_source` on the `files` source's `events` unit, the code `shopflow"
        " ingest` runs, timed from the start of the run until the rows are committed: list"
        " the files, parse the JSON lines (Arrow), flatten and validate (Arrow compute), drop"
        " ids repeated within the run, dlt extract (parquet) and normalize (csv), COPY into"
        " dlt's staging table, then the `insert-only` merge into `raw_files.events`; the"
        " benchmark checks the row count in the table afterwards. Steps of this run:"
        f" {phases}.",
        "- psycopg COPY from the files (the ceiling for loading files): per file, Arrow"
        " reads the JSON lines and flattens the nested fields, writes CSV to a buffer and"
        " `COPY ... FROM STDIN` loads it into a plain table (no validation, no dedup, no"
        " bookkeeping; Postgres parses the timestamp text); timed from the files to the"
        " committed rows.",
        "- psycopg COPY from memory (reference only, the previous ceiling): the same rows"
        " already parsed, flattened and written as CSV to a buffer beforehand; only the COPY"
        " is timed.",
        "- pandas (what most tutorials do): per file `pd.read_json(lines=True)`,"
        " `pd.json_normalize` of the nested fields, then"
        f" `to_sql(chunksize={PANDAS_CHUNK:,})`; timed from the files to the committed rows.",
        "",
        *(
            []
            if ours >= 0.5 * copy_rate and ours >= 10 * pandas_rate
            else [
                "Why a rate target is missed: the COPY ceiling parses and flattens the same"
                " files but then writes each row once, with no validation, no dedup and no"
                " bookkeeping. Ours also writes dlt's extract file (parquet) and its load file"
                " (csv), COPYs into dlt's staging table and then inserts into the table itself"
                " (the `insert-only` MERGE, which is what keeps a redelivered event from being"
                " inserted twice; `delete-insert` cost more). dlt runs extract, normalize and"
                " load one after the other, so on 2 vCPUs Python and Postgres barely overlap."
                " Measured separately on this machine, per 1M events: Arrow's JSON parsing"
                " about 1.8-1.9 s (both COPY from files and ours pay it), the run-wide"
                " `event_id` dedup about 0.4 s (was 0.7-0.8 s hashing 1M Python strings twice;"
                " since 2026-11-28 canonical lower-case UUID ids are decoded exactly to 128"
                " bits from the Arrow buffers with numpy, other ids still hashed), the load"
                " step (COPY into staging, then the merge) about 3 s, more under load."
                " Done on 2026-11-28: events hand `timestamp` to dlt as UTC text (`...+00`)"
                " with the column hint `timestamp`/`timezone: true`, so Postgres parses it on"
                " COPY and the column stays `timestamp with time zone`; Arrow's CSV writer"
                " formatting the time-zone-aware column had cost about 1.1-1.5 s of normalize."
                " In back-to-back A/B runs of the whole events pipeline on 2026-11-28 (1M"
                " events, load average about 2.5) that change took normalize from 2.5-3.0 s to"
                " 0.7-1.0 s and the run from 9.5-11.5 s to 9.2-9.6 s: extract rose by 0.1-0.7 s"
                " (the cast itself is 0.1 s), and run-to-run noise on this shared machine is"
                " larger than the gain. Considered and"
                " not done: writing the csv at extract (dlt always extracts Arrow items to"
                " parquet and rewrites them at normalize when the load format is csv; only"
                " importing our own csv files with `dlt.mark.with_file_import` would skip it,"
                " at the price of doing dlt's schema-drift handling by hand); loading a first"
                " run into an empty table with `append` instead of the merge (it would save the"
                " second write of every row, but a pending load package from a failed run could"
                " then double ids, which breaks exactly-once)."
                " Tried and dropped: `NORMALIZE__WORKERS=2` (slower: process start-up on 2 vCPUs).",
                "",
            ]
        ),
        "| peak memory of `ingest` (events only, fresh process) | MB |",
        "|---|---:|",
        f"| 1M events | {one:,.0f} |",
        f"| 5M events | {five:,.0f} |",
        f"| ratio 5M / 1M (target <= 1.5) | {five / one:.2f} |",
        "",
        "Memory is bounded per file and per batch: files are read in 1 MB blocks by Arrow's"
        " streaming JSON reader and handed to dlt as 100k-row tables, dlt rotates its files"
        " every 500k rows, and the merge runs inside Postgres. What grows with the run is the"
        " set of event ids already carried, which keeps a run from inserting one id twice:"
        " 16 bytes an event, plus a transient copy while two sorted runs of it are merged."
        " (Runs before 2026-11-28 21:15 reported about 1.15 GB at both sizes: that was the"
        " benchmark parent's own peak, which `ru_maxrss` carries into the child.)",
        "",
        "Reproduce: `scripts/benchmark` (about 3 minutes; needs ~2 GB in the temp folder).",
        "",
    ]
    return "\n".join(lines)


def write_section(section: str, doc: Path = BENCHMARKS_DOC) -> None:
    """Replace (or append) the Ingestion section of docs/benchmarks.md, leaving others alone."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(SECTION_TITLE + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION_TITLE))
        rest = "" if end == -1 else "\n" + text[end + 1 :]
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    doc.write_text(text)


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
        rows_table = flattened_events(rate_folder)
        load_before = os.getloadavg()[0]
        with scratch_database(server) as settings:
            ours = ingest_events(settings, rate_folder)
            steps = step_seconds(settings)
            copied = copy_events_from_files(settings, rate_folder)
            from_memory = copy_events_from_memory(settings, rows_table)
            del rows_table
            pandas_rate = pandas_events(settings, rate_folder)
        load_after = os.getloadavg()[0]
        memory = {rows: peak_memory_mb(folder) for rows, folder in folders.items()}
    when = time.strftime("%Y-%m-%d %H:%M")
    section = render_section(
        [ours, copied, from_memory, pandas_rate],
        memory,
        when,
        (load_start, load_before, load_after),
        steps,
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
