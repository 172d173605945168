"""The "Spark beside Postgres" section of docs/benchmarks.md, from measured rounds."""

from __future__ import annotations

from ingestion.benchmarking.spark_benchmark import (
    SECTION_TITLE,
    EngineRound,
    SparkScaleResult,
    render_section,
)


def result(scale: float, differing: list[str]) -> SparkScaleResult:
    return SparkScaleResult(
        scale=scale,
        raw_rows=758_559,
        full=EngineRound(
            postgres_build=40.0, lake_export=12.5, lake_rows=750_000, spark_build=120.0
        ),
        one_day=EngineRound(
            postgres_build=30.0, lake_export=13.0, lake_rows=752_000, spark_build=45.0
        ),
        marts_compared=20,
        marts_differing=differing,
        load_before=(1.0, 1.5, 2.0),
        load_after=(2.0, 2.5, 3.0),
    )


def test_one_row_per_build_with_the_ratio_and_the_parity_per_scale() -> None:
    section = render_section(
        [result(10, []), result(100, ["fct_orders: 3 rows against 2"])], minutes=42
    )
    lines = section.splitlines()
    assert lines[0] == SECTION_TITLE
    assert "| 10 | 758,559 | full, from empty | 40.0 | 12.5 | 750,000 | 120.0 | 3.0x |" in lines
    assert "| 10 | 758,559 | one-day | 30.0 | 13.0 | 752,000 | 45.0 | 1.5x |" in lines
    assert "- scale 10: 20 marts, all equal." in lines
    assert "- scale 100: 20 marts, differ: fct_orders: 3 rows against 2." in lines
    assert "this invocation took 42 min" in section
