"""The ingest benchmark's parts: a rate counts its median run, and its section of
docs/benchmarks.md replaces only itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestion.benchmarking.doc_sections import write_section
from ingestion.benchmarking.ingest_benchmark import RateResult


def test_the_benchmark_section_replaces_only_itself(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## Simulator\n\nkeep\n\n## Ingestion\n\nold\n\n## dbt\n\nkeep\n"
    )
    write_section("## Ingestion\n\nnew\n", doc)
    assert doc.read_text() == (
        "# Benchmarks\n\n## Simulator\n\nkeep\n\n## Ingestion\n\nnew\n\n## dbt\n\nkeep\n"
    )


def test_a_benchmark_rate_counts_its_median_run() -> None:
    first = RateResult("ours", 1_000, (4.0,))
    rate = first.merged(RateResult("ours", 1_000, (2.0,))).merged(RateResult("ours", 1_000, (9.0,)))
    assert rate.runs == (4.0, 2.0, 9.0)
    assert rate.seconds == 4.0 and rate.rows_per_second == 250.0
    with pytest.raises(ValueError, match="cannot merge"):
        first.merged(RateResult("pandas", 1_000, (1.0,)))
