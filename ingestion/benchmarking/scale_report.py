"""The "Scale" section of docs/benchmarks.md and its chart, from the scale benchmark's runs.

Targets that need a scale the invocation did not measure (10 or 100) say "not measured".
"""

from __future__ import annotations

import math
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ingestion.benchmarking.doc_sections import BENCHMARKS_DOC
from ingestion.benchmarking.scale import TICK_DAYS, RunMeasure, ScaleResult
from ingestion.settings import REPO_ROOT

SECTION_TITLE = "## Scale"
CHART = BENCHMARKS_DOC.with_name("benchmarks-scale.png")
TARGET_SCALE = 100.0
LINEAR_FROM, LINEAR_TO = 10.0, 100.0
MAX_LINEAR_EXPONENT = 1.2
"""Our reading of "about linear": cost at most 10^1.2 (16x) for 10x the data."""
NOT_MEASURED = "not measured"


def met(condition: bool) -> str:
    """``met`` or ``NOT met``."""
    return "met" if condition else "**NOT met**"


def at_scale(results: list[ScaleResult], scale: float) -> ScaleResult | None:
    """The result of one scale, if it was measured."""
    return next((result for result in results if result.scale == scale), None)


def build_seconds(run: RunMeasure) -> float:
    return run.stage("dbt-build")


def tick_build_target(results: list[ScaleResult]) -> str:
    result = at_scale(results, TARGET_SCALE)
    head = (
        f"dbt build after the {TICK_DAYS}-day tick at scale {TARGET_SCALE:g}"
        " <= 10% of the full build"
    )
    if result is None:
        return f"{head}: {NOT_MEASURED}."
    tick, full = build_seconds(result.after_tick), build_seconds(result.full_refresh)
    return (
        f"{head}: {met(tick <= 0.1 * full)}, {tick:.1f} s against {full:.1f} s for the"
        f" `--full-refresh` build ({tick / full:.1%}); the build from empty took"
        f" {build_seconds(result.from_empty):.1f} s."
    )


def full_build_targets(results: list[ScaleResult]) -> list[str]:
    result = at_scale(results, TARGET_SCALE)
    build_head = f"full dbt build at scale {TARGET_SCALE:g} <= 240 s"
    run_head = f"`shopflow run` from empty at scale {TARGET_SCALE:g} <= 480 s"
    if result is None:
        return [f"{build_head}: {NOT_MEASURED}.", f"{run_head}: {NOT_MEASURED}."]
    full = build_seconds(result.full_refresh)
    whole = result.from_empty.run.seconds
    return [
        f"{build_head}: {met(full <= 240)}, {full:.1f} s (`--full-refresh`; from empty"
        f" {build_seconds(result.from_empty):.1f} s).",
        f"{run_head}: {met(whole <= 480)}, {whole:.1f} s.",
    ]


def ingest_target(results: list[ScaleResult]) -> str:
    largest = max(results, key=lambda result: result.scale)
    tick = largest.after_tick.stage("ingest")
    full = largest.from_empty.stage("ingest")
    return (
        f"ingest after the {TICK_DAYS}-day tick <= 5% of the full ingest (the from-empty run's"
        f" ingest), at the largest scale measured ({largest.scale:g}): {met(tick <= 0.05 * full)},"
        f" {tick:.1f} s against {full:.1f} s ({tick / full:.1%})."
    )


def exponent(results: list[ScaleResult], seconds: Callable[[ScaleResult], float]) -> float | None:
    """log(t_to / t_from) / log(to / from) between the two scales, if both were measured."""
    low, high = at_scale(results, LINEAR_FROM), at_scale(results, LINEAR_TO)
    if low is None or high is None:
        return None
    return math.log(seconds(high) / seconds(low)) / math.log(LINEAR_TO / LINEAR_FROM)


def linear_target(results: list[ScaleResult]) -> str:
    head = (
        f"cost grows about linearly from scale {LINEAR_FROM:g} to {LINEAR_TO:g}"
        f" (exponent log(t{LINEAR_TO:g}/t{LINEAR_FROM:g})/log({LINEAR_TO / LINEAR_FROM:g})"
        f" <= {MAX_LINEAR_EXPONENT})"
    )
    build = exponent(results, lambda result: build_seconds(result.full_refresh))
    whole = exponent(results, lambda result: result.from_empty.run.seconds)
    if build is None or whole is None:
        return f"{head}: {NOT_MEASURED}."
    return (
        f"{head}: {met(max(build, whole) <= MAX_LINEAR_EXPONENT)}, full dbt build {build:.2f},"
        f" whole run from empty {whole:.2f}."
    )


def equality_target(results: list[ScaleResult]) -> str:
    per_scale = "; ".join(
        f"scale {result.scale:g}: {len(result.marts_compared)} marts compared, "
        + (
            f"differ: {', '.join(result.marts_differing)}"
            if result.marts_differing
            else "none differ"
        )
        for result in results
    )
    equal = all(result.marts_compared and not result.marts_differing for result in results)
    return (
        f"incremental equals full refresh (every mart's row count and checksum after the tick"
        f" run equal those after the `--full-refresh` run): {met(equal)}; {per_scale}."
    )


def stage_names(results: list[ScaleResult]) -> list[str]:
    """Every stage any run reported, in the order the runs reported them."""
    names: dict[str, None] = {}
    for result in results:
        for measure in result.runs:
            names.update(dict.fromkeys(measure.run.stages))
    return list(names)


def runs_table(results: list[ScaleResult]) -> list[str]:
    stages = stage_names(results)
    lines = [
        "| scale | run | whole run s | "
        + " | ".join(f"{name} s" for name in stages)
        + " | rows loaded | raw rows | peak MB (tree) | largest process MB |",
        "|---:|---|---:|" + "---:|" * len(stages) + "---:|---:|---:|---:|",
    ]
    for result in results:
        for measure in result.runs:
            stage_cells = " | ".join(f"{measure.run.stages.get(name, 0.0):.1f}" for name in stages)
            memory = measure.run.memory
            lines.append(
                f"| {result.scale:g} | {measure.label} | {measure.run.seconds:.1f} |"
                f" {stage_cells} | {measure.rows_loaded:,} | {measure.raw_rows:,} |"
                f" {memory.tree_peak_mb:,.0f} | {memory.largest_process_mb:,.0f} |"
            )
    return lines


def load_table(results: list[ScaleResult]) -> list[str]:
    lines = [
        "| scale | load average before (1/5/15 min) | after |",
        "|---:|---|---|",
    ]
    for result in results:
        before, after = (
            "/".join(f"{v:.2f}" for v in load) for load in (result.load_before, result.load_after)
        )
        lines.append(f"| {result.scale:g} | {before} | {after} |")
    return lines


def node_cell(measure: RunMeasure, rank: int) -> str:
    """``name (type) seconds`` of the build's ``rank``-th slowest node (0 first), or nothing."""
    if rank >= len(measure.slowest):
        return ""
    node = measure.slowest[rank]
    return f"{node.name} ({node.resource_type}) {node.seconds:.1f} s"


def slowest_table(result: ScaleResult) -> list[str]:
    lines = [
        f"Scale {result.scale:g}, slowest dbt nodes of each build:",
        "",
        "| # | " + " | ".join(measure.label for measure in result.runs) + " |",
        "|---:|---|---|---|",
    ]
    depth = max(len(measure.slowest) for measure in result.runs)
    for rank in range(depth):
        cells = [node_cell(measure, rank) for measure in result.runs]
        lines.append(f"| {rank + 1} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def project_version() -> str:
    """The commit of the dbt project measured, and whether its models had uncommitted changes."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "dbt_project", "macros", "dbt_project.yml")
    return f"commit {commit}" + (" with uncommitted model changes" if dirty else "")


def intro(results: list[ScaleResult], workdir: Path, minutes: float) -> list[str]:
    scales = ", ".join(f"{result.scale:g}" for result in results)
    return [
        SECTION_TITLE,
        "",
        "`scripts/benchmark scale` (default scales 1, 10 and 100; `--scales 0.2,1` for others,"
        " `--workdir DIR` for where its temporary folder goes, `--no-write` to print only)"
        " builds a fresh world per scale in throwaway databases on the configured server and"
        " runs the CLI on it as a user would, each command a subprocess: `shopflow run --scale S`"
        f" from empty, `shopflow run --tick {TICK_DAYS}`, then `shopflow run --full-refresh`."
        " Landing files, dbt artifacts and logs go to a temporary folder under the system temp"
        " (about 2 GB at scale 100); the databases, the folder and dlt's local state are removed"
        " after each scale, also when a run fails. Scale 100 takes most of the time: its"
        " from-empty run alone is allowed 8 minutes by the targets below, and the tick and"
        " full-refresh runs follow; the time this invocation took is stated below. Keep other"
        " work off the machine meanwhile: the figures are wall-clock seconds.",
        "",
        f"Measured {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} vCPUs, local embedded"
        f" PostgreSQL, the dbt project at {project_version()}; scales {scales}; this invocation"
        f" took {minutes:.0f} min and wrote to `{workdir}` (removed). Seconds per stage come"
        " from each run's summary table, rows loaded from `audit.pipeline_runs`, raw rows are"
        " exact counts of the `raw_*` tables after the run, the slowest nodes come from"
        " `audit.dbt_results`. Peak memory: the highest sum of the resident memory of the"
        " `shopflow` process tree (the CLI and the dbt subprocesses it starts), sampled every"
        " 0.25 s from /proc, and the largest single process's exact high-water mark (`VmHWM`);"
        " the PostgreSQL server is not included. `--full-refresh` rebuilds the dbt models;"
        ' the "full ingest" is the from-empty run\'s.',
        "",
        f"![cost against scale]({CHART.name})",
        "",
    ]


def render_section(results: list[ScaleResult], workdir: Path, minutes: float) -> str:
    """The "Scale" section of docs/benchmarks.md."""
    targets = [
        tick_build_target(results),
        *full_build_targets(results),
        ingest_target(results),
        linear_target(results),
        equality_target(results),
    ]
    lines = [*intro(results, workdir, minutes), "Targets:", ""]
    lines += [f"- {target}" for target in targets] + [""]
    lines += [*runs_table(results), "", *load_table(results), ""]
    for result in results:
        lines += slowest_table(result)
    return "\n".join(lines)


def draw_chart(results: list[ScaleResult], path: Path = CHART) -> None:
    """dbt build seconds (full and after the tick) and whole-run seconds against scale, log-log."""
    scales = [result.scale for result in results]
    series = {
        "dbt build, --full-refresh": [build_seconds(r.full_refresh) for r in results],
        f"dbt build after a {TICK_DAYS}-day tick": [build_seconds(r.after_tick) for r in results],
        "whole run from empty": [r.from_empty.run.seconds for r in results],
        f"whole run after a {TICK_DAYS}-day tick": [r.after_tick.run.seconds for r in results],
    }
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for label, seconds in series.items():
        axes.plot(scales, seconds, marker="o", label=label)
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(scales, labels=[f"{scale:g}" for scale in scales])
    axes.xaxis.set_minor_formatter(NullFormatter())
    axes.yaxis.set_minor_locator(LogLocator(subs=(2, 5)))
    for formatter in (axes.yaxis.set_major_formatter, axes.yaxis.set_minor_formatter):
        formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axes.set_xlabel("world scale")
    axes.set_ylabel("seconds")
    axes.set_title("shopflow run: cost against scale")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.savefig(path, dpi=120)
