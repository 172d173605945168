"""Change data capture benchmark: what reading the operations database's log costs at a scale,
beside the cursor reader and beside a plain COPY; writes the "Change data capture" section of
docs/benchmarks.md (``cdc_report``).

In one throwaway world (``cli_world.throwaway_world``) and a second warehouse on the same
operations database, everything in this process (the ingestion as `shopflow ingest` runs it,
``run_ingestion``, so each source run's seconds are exact and no CLI start-up is timed):

1. the world built at the scale, with its landing files;
2. ops alone with the cursor reader into the second warehouse; every source ingested from
   empty, ops from the log (the initial copy), and the ops tables copied again if that
   ingest's log outgrew what the server keeps for its slot;
3. a one-day tick; the log peeked (changes counted); both ingests again; a second one-day
   tick, the log peeked, every source again from the log (the steady state);
4. a seven-day tick; the log peeked; ops from the log; a plain COPY of the rows the changes
   wrote, from the source into a scratch table of the warehouse.
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from psycopg2 import sql

from ingestion.benchmarking.cdc_report import (
    TICK_DAYS,
    WEEK_DAYS,
    CdcResult,
    CopyBaseline,
    IngestMeasure,
    LogRead,
    render_section,
)
from ingestion.benchmarking.cli_world import extra_warehouse, throwaway_world
from ingestion.benchmarking.doc_sections import write_section
from ingestion.benchmarking.memory import sampling_memory
from ingestion.database.connection import (
    autocommit,
    connect,
    one_row,
)
from ingestion.database.server_settings import connection_settings
from ingestion.loading.registry import SOURCES
from ingestion.settings import (
    OPS_CAPTURE_CDC,
    OPS_CAPTURE_CURSOR,
    REPO_ROOT,
    ConnectionSettings,
    Settings,
)
from ingestion.simulators.world.build import build_world
from ingestion.simulators.world.landing import write_landing_files
from ingestion.simulators.world.tick import tick
from ingestion.sources.ops.capture import open_capture
from ingestion.sources.ops.settings import DATASET_NAME as OPS_DATASET
from ingestion.sources.ops.settings import SOURCE_SCHEMA, TABLE_PRIMARY_KEYS
from ingestion.sources.ops.slot import copy_reason, read_position
from ingestion.sources.ops.text_values import COLUMNS_QUERY
from ingestion.stage_runner.ingest_stage import run_ingestion

log = logging.getLogger(__name__)

DEFAULT_SCALE = 100.0
SEED = 42
COPY_SCHEMA = "cdc_copy_baseline"
"""The warehouse schema the COPY baseline writes into (dropped with the throwaway warehouse)."""
MEASURED_CODE = (
    "ingestion/sources/ops",
    "ingestion/loading",
    "ingestion/stage_runner",
    "ingestion/benchmarking",
)
"""What the figures depend on: uncommitted changes there are said beside the commit."""


def table_rows(settings: ConnectionSettings, database: str, schema: str) -> dict[str, int]:
    """Exact row count of every ops table in ``schema`` of ``database``."""
    with autocommit(settings, database) as cursor:
        counts = {}
        for table in TABLE_PRIMARY_KEYS:
            cursor.execute(sql.SQL("select count(*) from {}").format(sql.Identifier(schema, table)))
            counts[table] = int(one_row(cursor)[0])
        return counts


def check_raw_matches_source(settings: ConnectionSettings) -> None:
    """Raise unless every raw ops table holds as many rows as its source: a figure measured
    on a load that lost or doubled rows is worth nothing."""
    source = table_rows(settings, settings.ops_database, SOURCE_SCHEMA)
    raw = table_rows(settings, settings.database, OPS_DATASET)
    if source != raw:
        raise RuntimeError(f"{settings.database}: raw ops rows {raw} differ from source {source}")


def wal_position(settings: ConnectionSettings) -> int:
    """The server's current log position in bytes (every database's writes move it)."""
    with autocommit(settings, settings.ops_database) as cursor:
        cursor.execute("select (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint")
        return int(one_row(cursor)[0])


def slot_wal_cap(settings: ConnectionSettings) -> str:
    """The server's ``max_slot_wal_keep_size``: how much log a slot may hold."""
    with autocommit(settings, settings.ops_database) as cursor:
        cursor.execute("show max_slot_wal_keep_size")
        return str(one_row(cursor)[0])


def slot_lost(settings: ConnectionSettings) -> str:
    """Why the warehouse's next ops run would copy every table again (empty: it reads on),
    decided as the capture decides it, without opening one (which would make a new slot)."""
    with closing(connect(settings, settings.database)) as warehouse, warehouse.cursor() as cursor:
        position = read_position(cursor, OPS_DATASET)
    with closing(connect(settings, settings.ops_database)) as ops:
        return copy_reason(ops, position)


def timed_ingest(
    label: str, settings: ConnectionSettings, config: Settings, sources: Sequence[str]
) -> IngestMeasure:
    """Ingest ``sources`` in this process, timed and its memory sampled; raises if a unit
    failed or the raw ops tables do not match the source afterwards."""
    log.info("%s: ingesting %s (ops by %s)", label, ", ".join(sources), config.ops_capture)
    wal_before = wal_position(settings)
    started = time.perf_counter()
    with sampling_memory(os.getpid()) as memory:
        report = run_ingestion(
            settings, sources, run_id=f"cdc-bench-{uuid.uuid4().hex[:8]}", config=config
        )
    seconds = time.perf_counter() - started
    wal_mb = (wal_position(settings) - wal_before) / 2**20
    if not report.ok:
        failed = [f"{u.source}.{u.table}: {u.error}" for u in report.units if u.status != "ok"]
        raise RuntimeError(f"{label}: units failed: {'; '.join(failed)}")
    check_raw_matches_source(settings)
    ops = next(run for run in report.sources if run.source == "ops")
    measure = IngestMeasure(
        label,
        config.ops_capture,
        {
            run.source: (run.finished_at - run.started_at).total_seconds()
            for run in report.sources
            if run.finished_at is not None
        },
        seconds,
        sum(unit.seconds for unit in ops.units),
        ops.total("rows_loaded"),
        ops.total("rows_deleted"),
        memory.result().tree_peak_mb,
        wal_mb,
    )
    log.info(
        "%s: %.1f s (ops %.1f s), ops %s rows merged, %s keys deleted, peak %.0f MB, log %.0f MB",
        label,
        measure.seconds,
        measure.ops_seconds,
        f"{measure.ops_rows_loaded:,}",
        f"{measure.ops_keys_deleted:,}",
        measure.peak_mb,
        measure.wal_mb,
    )
    return measure


def peek_log(settings: ConnectionSettings) -> tuple[LogRead, dict[str, list[str]]]:
    """What the warehouse's slot holds now, read and folded by the capture's own reader without
    consuming it (nothing is confirmed); with the keys each table's changes wrote."""
    started = time.perf_counter()
    with open_capture(
        settings.ops_url,
        settings.warehouse_url,
        settings.database,
        SOURCE_SCHEMA,
        OPS_DATASET,
        dict(TABLE_PRIMARY_KEYS),
    ) as capture:
        if capture.copying:
            raise RuntimeError(
                f"the log was to be peeked, but the capture copies: {capture.reason}"
            )
        folded = capture.changes
    read = LogRead(
        changes=sum(table.changes for table in folded.values()),
        rows_written=sum(len(table.rows) for table in folded.values()),
        keys_deleted=sum(len(table.deleted) for table in folded.values()),
        seconds=time.perf_counter() - started,
    )
    log.info(
        "the log holds %s changes: %s rows to merge, %s keys to delete (read in %.1f s)",
        f"{read.changes:,}",
        f"{read.rows_written:,}",
        f"{read.keys_deleted:,}",
        read.seconds,
    )
    return read, {name: list(table.rows) for name, table in folded.items() if table.rows}


def copy_baseline(settings: ConnectionSettings, keys: dict[str, list[str]]) -> CopyBaseline:
    """COPY the source rows of ``keys`` into scratch tables of the warehouse typed like the
    source: the scratch tables are made first, untimed; then, timed, per table ``copy (select
    ...) to stdout`` into memory and ``copy ... from stdin``, committed."""
    with (
        closing(connect(settings, settings.ops_database)) as ops,
        closing(connect(settings, settings.database)) as warehouse,
    ):
        statements: list[tuple[str, sql.SQL]] = []
        with ops.cursor() as source, warehouse, warehouse.cursor() as target:
            target.execute(sql.SQL("create schema {}").format(sql.Identifier(COPY_SCHEMA)))
            for table, table_keys in keys.items():
                source.execute(
                    COLUMNS_QUERY.replace("%s", "%s::regclass"), (f'"{SOURCE_SCHEMA}"."{table}"',)
                )
                columns = {name: kind for name, kind, _ in source.fetchall()}
                target.execute(
                    sql.SQL("create table {} ({})").format(
                        sql.Identifier(COPY_SCHEMA, table),
                        sql.SQL(", ").join(
                            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                            for name, kind in columns.items()
                        ),
                    )
                )
                key = TABLE_PRIMARY_KEYS[table]
                select = sql.SQL("select * from {} where {} = any(%s::text[]::{}[])").format(
                    sql.Identifier(SOURCE_SCHEMA, table), sql.Identifier(key), sql.SQL(columns[key])
                )
                statements.append((table, sql.SQL(source.mogrify(select, (table_keys,)).decode())))
        ops.commit()
        rows = 0
        started = time.perf_counter()
        for table, query in statements:
            buffer = io.BytesIO()
            with ops.cursor() as source:
                source.copy_expert(sql.SQL("copy ({}) to stdout").format(query), buffer)
            buffer.seek(0)
            with warehouse, warehouse.cursor() as target:
                target.copy_expert(
                    sql.SQL("copy {} from stdin").format(sql.Identifier(COPY_SCHEMA, table)),
                    buffer,
                )
                rows += target.rowcount
        seconds = time.perf_counter() - started
    log.info("COPY of the same rows: %s rows in %.1f s", f"{rows:,}", seconds)
    return CopyBaseline(rows, seconds)


def code_version() -> str:
    """The commit measured, and whether the code this benchmark runs had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", *MEASURED_CODE)
    return f"commit {commit}" + (" with uncommitted changes to the code measured" if dirty else "")


def measure(server: ConnectionSettings, scale: float, workdir: Path) -> CdcResult:
    """Every step of the module's list, in one throwaway world under ``workdir``."""
    started = time.perf_counter()
    version = code_version()
    load_before = os.getloadavg()
    with (
        throwaway_world(server, workdir, prefix="shopflow_cdc_") as world,
        extra_warehouse(world.settings, f"{world.settings.database}_cursor") as cursor_settings,
    ):
        settings = world.settings
        landing = world.folder / "landing"
        # the benchmark is an entry point, like the CLI: it resolves the settings once
        base = replace(Settings.from_environment(), landing_dir=landing)
        cdc = replace(base, ops_capture=OPS_CAPTURE_CDC)
        cursor = replace(base, ops_capture=OPS_CAPTURE_CURSOR)
        log.info("building the world at scale %g in %s", scale, settings.ops_database)
        build_world(settings, SEED, scale)
        write_landing_files(settings, landing=landing)
        source_rows = table_rows(settings, settings.ops_database, SOURCE_SCHEMA)
        every_source = list(SOURCES)
        # the cursor reader first: its load's log would otherwise count against the new slot
        cursor_full = timed_ingest("from empty", cursor_settings, cursor, ["ops"])
        full = timed_ingest("from empty", settings, cdc, every_source)
        lost, cap = slot_lost(settings), slot_wal_cap(settings)
        resync = None
        if lost:
            log.warning("the first ingest's slot is lost (%s): the ops tables copied again", lost)
            resync = timed_ingest("resync (slot lost)", settings, cdc, ["ops"])

        tick(settings, TICK_DAYS, landing=landing)
        tick_log, _ = peek_log(settings)
        after_tick = f"after a {TICK_DAYS}-day tick"
        tick_measure = timed_ingest(after_tick, settings, cdc, every_source)
        cursor_tick = timed_ingest(after_tick, cursor_settings, cursor, ["ops"])

        tick(settings, TICK_DAYS, landing=landing)
        next_tick_log, _ = peek_log(settings)
        next_tick = timed_ingest(
            f"after a second {TICK_DAYS}-day tick", settings, cdc, every_source
        )

        tick(settings, WEEK_DAYS, write_files=False)
        week_log, week_keys = peek_log(settings)
        week = timed_ingest(f"after a {WEEK_DAYS}-day tick", settings, cdc, ["ops"])
        week_copy = copy_baseline(settings, week_keys)
    return CdcResult(
        scale=scale,
        source_rows=source_rows,
        full=full,
        slot_lost=lost,
        resync=resync,
        slot_wal_cap=cap,
        tick=tick_measure,
        cursor_full=cursor_full,
        cursor_tick=cursor_tick,
        tick_log=tick_log,
        next_tick=next_tick,
        next_tick_log=next_tick_log,
        week=week,
        week_log=week_log,
        week_copy=week_copy,
        load_before=load_before,
        load_after=os.getloadavg(),
        minutes=(time.perf_counter() - started) / 60,
        code_version=version,
    )


def benchmark(scale: float, workdir: Path | None, write_doc: bool) -> str:
    """Measure in a temporary folder (removed afterwards, also on failure); write the section
    unless told not to; return it."""
    root = Path(tempfile.mkdtemp(prefix="shopflow-cdc-", dir=workdir))
    log.info("landing files and dlt's state go to %s (removed afterwards)", root)
    try:
        result = measure(connection_settings(), scale, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    section = render_section(result, time.strftime("%Y-%m-%d %H:%M"))
    if write_doc:
        write_section(section)
        log.info("wrote the Change data capture section of docs/benchmarks.md")
    return section


def positive_scale(text: str) -> float:
    """``--scale``: a positive number."""
    try:
        scale = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--scale takes a number, not {text!r}") from None
    if scale <= 0:
        raise argparse.ArgumentTypeError(f"--scale takes a positive number, not {text!r}")
    return scale


def main(argv: list[str] | None = None) -> None:
    """Parse the arguments, run the benchmark and print its section."""
    parser = argparse.ArgumentParser(prog="scripts/benchmark cdc", description=__doc__)
    parser.add_argument(
        "--scale",
        type=positive_scale,
        default=DEFAULT_SCALE,
        help=f"world scale (default: {DEFAULT_SCALE:g})",
    )
    parser.add_argument(
        "--workdir", type=Path, help="where its temporary folder goes (default: the system temp)"
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the doc")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("dlt").setLevel(logging.ERROR)
    print(benchmark(args.scale, args.workdir, write_doc=not args.no_write))


if __name__ == "__main__":
    main()
