"""The "Ingestion" section of docs/benchmarks.md, written from the events benchmark's results."""

from __future__ import annotations

import os

from ingestion.benchmarking.ingest_baselines import (
    MEMORY_ROWS,
    PANDAS_CHUNK,
    RATE_REPEATS,
    RATE_ROWS,
    RateResult,
)

SECTION_TITLE = "## Ingestion"


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
