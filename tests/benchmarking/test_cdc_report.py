"""The Change data capture section judges the issue's targets from the measures, says when
they were measured at another scale, and compares the log reader's rate with COPY's."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import pytest

from ingestion.benchmarking.cdc_benchmark import positive_scale
from ingestion.benchmarking.cdc_report import (
    CdcResult,
    CopyBaseline,
    IngestMeasure,
    LogRead,
    copy_comparison,
    ops_tick_target,
    render_section,
    whole_tick_target,
)
from ingestion.benchmarking.doc_sections import write_section


def ingest(label: str, reader: str, whole: float, ops: float, merged: int = 100) -> IngestMeasure:
    sources = {"storefront": 1.0, "ops": ops, "files": 2.0} if reader == "cdc" else {"ops": ops}
    return IngestMeasure(label, reader, sources, whole, ops * 0.8, merged, 4, 512.0, 300.0)


def cdc_result(scale: float = 100.0, tick_ops: float = 2.5, tick_whole: float = 9.0) -> CdcResult:
    """Measures whose second (steady) tick took ``tick_ops`` / ``tick_whole``, the first 2 s
    more."""
    return CdcResult(
        scale=scale,
        source_rows={"customers": 100_000, "orders": 500_000},
        full=ingest("from empty", "cdc", 200.0, 60.0, merged=2_000_000),
        slot_lost="",
        resync=None,
        slot_wal_cap="2GB",
        tick=ingest("after a 1-day tick", "cdc", tick_whole + 2.0, tick_ops + 2.0),
        cursor_full=ingest("from empty", "cursor", 90.0, 90.0, merged=2_000_000),
        cursor_tick=ingest("after a 1-day tick", "cursor", 10.0, 10.0),
        tick_log=LogRead(changes=150, rows_written=100, keys_deleted=4, seconds=0.5),
        next_tick=ingest("after a second 1-day tick", "cdc", tick_whole, tick_ops),
        next_tick_log=LogRead(changes=140, rows_written=90, keys_deleted=4, seconds=0.25),
        week=ingest("after a 7-day tick", "cdc", 8.0, 8.0, merged=39_996),
        week_log=LogRead(changes=60_000, rows_written=39_996, keys_deleted=4, seconds=3.0),
        week_copy=CopyBaseline(rows=39_996, seconds=0.5),
        load_before=(5.3, 6.1, 4.8),
        load_after=(7.0, 6.5, 5.0),
        minutes=14.0,
        code_version="commit abc1234",
    )


def test_ops_tick_target_is_met_up_to_three_seconds_and_compared_with_the_cursor() -> None:
    text = ops_tick_target(cdc_result(tick_ops=2.5))
    assert "<= 3 s: met, 2.5 s from the log after a second 1-day tick (the steady state)" in text
    assert "against 10.0 s for the cursor reader on a 1-day change (25% of it)" in text
    assert "4.5 s after the first tick, whose read also walks the 300 MB of log" in text
    assert ": met, 3.0 s" in ops_tick_target(cdc_result(tick_ops=3.0))
    assert ": **NOT met**, 3.1 s" in ops_tick_target(cdc_result(tick_ops=3.1))


def test_whole_tick_target_is_five_percent_of_the_full_ingest() -> None:
    text = whole_tick_target(cdc_result(tick_whole=10.0))
    assert ": met, 10.0 s after the second tick against 200.0 s from empty (5.0%)" in text
    assert "12.0 s after the first (6.0%)" in text
    assert ": **NOT met**, 10.5 s after" in whole_tick_target(cdc_result(tick_whole=10.5))


def test_targets_measured_off_scale_say_so() -> None:
    assert "measured at scale 10, not 100" in ops_tick_target(cdc_result(scale=10))
    assert "measured at scale" not in whole_tick_target(cdc_result(scale=100))


def test_copy_comparison_gives_both_rates_and_their_ratio() -> None:
    text = copy_comparison(cdc_result())
    # 39,996 merged + 4 deleted in 8 s; 39,996 copied in 0.5 s
    assert "applied 40,000 rows (60,000 changes) in 8.0 s, 5,000 rows/s" in text
    assert "took 0.5 s, 79,992 rows/s (16.0x the log reader's rate)" in text
    untimed = replace(cdc_result(), week=ingest("after a 7-day tick", "cdc", 0.0, 0.0))
    assert "in 0.0 s, - rows/s" in copy_comparison(untimed)
    assert "(- the log reader's rate)" in copy_comparison(untimed)


def test_a_lost_slot_is_reported_with_the_log_written_and_the_resync() -> None:
    kept = render_section(cdc_result(), "2026-12-07 10:00")
    assert "slot was still readable before the first tick (300 MB of log" in kept
    assert "resync" not in kept.split("Targets")[1]
    lost = replace(
        cdc_result(),
        slot_lost="the slot s1 was invalidated by the server (wal_removed)",
        resync=ingest("resync (slot lost)", "cdc", 70.0, 70.0),
    )
    section = render_section(lost, "2026-12-07 10:00")
    assert "**The first ingest lost its own slot**: the slot s1 was invalidated" in section
    assert "past the 2GB the server keeps for a slot" in section
    assert "copied again from a new slot (70.0 s, 300 MB of log)" in section
    assert (
        "lost its own slot**: the slot s1 was invalidated by the server (wal_removed). 300 MB"
        in (section)
    )
    assert "| resync (slot lost) | cdc | storefront 1.0, ops 70.0, files 2.0 | 70.0 |" in section


def test_section_holds_the_load_the_tables_and_replaces_itself(tmp_path: Path) -> None:
    section = render_section(cdc_result(), "2026-12-07 10:00")
    assert section.startswith("## Change data capture\n")
    assert "load average 5.30/6.10/4.80 (1/5/15 min) before and 7.00/6.50/5.00 after" in section
    assert (
        "| after a 1-day tick | cursor | ops 10.0 | 10.0 | 10.0 | 8.0 | 100 | 4 | 512 | 300 |"
        in section
    )
    assert "| 7 day(s) | 60,000 | 39,996 | 4 | 3.0 | 8.0 | 7,500 | 5,000 |" in section
    assert "| 1 day(s), the second | 140 | 90 | 4 | 0.2 | 2.5 | 56 | 42 |" in section
    assert (
        "| after a second 1-day tick | cdc | storefront 1.0, ops 2.5, files 2.0 | 9.0 |" in section
    )
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Scale\n\nkept\n")
    write_section(section, doc)
    write_section(render_section(cdc_result(tick_ops=9.0), "2026-12-07 11:00"), doc)
    text = doc.read_text()
    assert text.count("## Change data capture") == 1 and "## Scale\n\nkept\n" in text
    assert "11:00" in text and "10:00" not in text


def test_scale_must_be_a_positive_number() -> None:
    assert positive_scale("10") == 10.0
    for bad in ("ten", "0", "-1"):
        with pytest.raises(argparse.ArgumentTypeError):
            positive_scale(bad)
