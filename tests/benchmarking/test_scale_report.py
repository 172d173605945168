"""The Scale section judges each target from the measured runs, and says when it cannot."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pytest

from ingestion.benchmarking.cli_world import CliRun
from ingestion.benchmarking.memory import ProcessTreeMemory
from ingestion.benchmarking.scale import NodeTiming, RunMeasure, ScaleResult
from ingestion.benchmarking.scale_benchmark import parse_scales
from ingestion.benchmarking.scale_report import (
    draw_chart,
    equality_target,
    exponent,
    linear_target,
    render_section,
    tick_build_target,
)


def measure(label: str, whole: float, build: float, ingest: float = 1.0) -> RunMeasure:
    stages = {"simulate": 0.5, "ingest": ingest, "dbt-build": build, "docs": 2.0}
    run = CliRun(("run",), whole, stages, ProcessTreeMemory(300.0, 200.0), "")
    return RunMeasure(label, run, 10, 100, [NodeTiming("fct_sales", "model", build / 2)])


def scale_result(scale: float, full_build: float, tick_build: float, whole: float) -> ScaleResult:
    return ScaleResult(
        scale,
        measure("from empty", whole, full_build, ingest=20.0),
        measure("after a 1-day tick", whole / 5, tick_build, ingest=0.5),
        measure("full refresh", whole, full_build),
        ["dim_customers", "fct_sales"],
        [],
        (1.0, 1.0, 1.0),
        (2.0, 2.0, 2.0),
    )


def test_targets_needing_scale_100_say_not_measured_without_it() -> None:
    results = [scale_result(0.2, 10.0, 5.0, 30.0), scale_result(1, 20.0, 6.0, 60.0)]
    assert tick_build_target(results).endswith("not measured.")
    assert linear_target(results).endswith("not measured.")
    section = render_section(results, Path("/tmp/x"), 3.0)
    assert section.startswith("## Scale\n")
    assert section.count("not measured") == 4  # tick build, full build, whole run, linearity
    assert "ingest after the 1-day tick" in section and "(1): met, 0.5 s against 20.0 s" in section


def test_tick_build_target_compares_with_the_full_refresh_build() -> None:
    met = [scale_result(100, 200.0, 20.0, 400.0)]
    missed = [scale_result(100, 200.0, 20.5, 400.0)]
    assert "met, 20.0 s against 200.0 s" in tick_build_target(met)
    assert "**NOT met**, 20.5 s" in tick_build_target(missed)


def test_linearity_exponent_is_measured_between_scale_10_and_100() -> None:
    results = [scale_result(10, 10.0, 1.0, 50.0), scale_result(100, 100.0, 2.0, 1000.0)]
    assert exponent(results, lambda result: result.full_refresh.stage("dbt-build")) == 1.0
    assert exponent(results, lambda result: result.from_empty.run.seconds) == pytest.approx(
        math.log10(20)
    )
    assert "**NOT met**, full dbt build 1.00, whole run from empty 1.30" in linear_target(results)


def test_equality_target_names_the_differing_marts() -> None:
    equal = scale_result(1, 10.0, 1.0, 30.0)
    unequal = scale_result(10, 10.0, 1.0, 30.0)
    unequal = ScaleResult(**{**unequal.__dict__, "marts_differing": ["fct_sales"]})
    text = equality_target([equal, unequal])
    assert "**NOT met**" in text
    assert (
        "scale 1: 2 marts compared, none differ; scale 10: 2 marts compared, differ: fct_sales"
        in text
    )
    assert ": met; scale 1: 2 marts compared, none differ." in equality_target([equal])


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    draw_chart([scale_result(1, 10.0, 1.0, 30.0), scale_result(10, 90.0, 3.0, 200.0)], chart)
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_scales_are_parsed_in_order_and_checked() -> None:
    assert parse_scales("0.2,1") == [0.2, 1.0]
    for bad in ("a,1", "0,1", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_scales(bad)
