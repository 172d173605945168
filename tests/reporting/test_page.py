"""The HTML page: self-contained, one section per chart, figures in tables, escaped."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from ingestion.atomic_write import write_atomically
from ingestion.reporting.datasets import Dataset, Series, ValueKind
from ingestion.reporting.page import TABLE_OPEN_MAX_ROWS, render_page, render_table
from ingestion.reporting.queries import (
    BuildTests,
    CategorySales,
    FunnelDay,
    IngestRun,
    MonthlyChannelRevenue,
    OpenOrdersDay,
    ReportData,
    StreamMinute,
)
from ingestion.reporting.report import summary_line
from ingestion.reporting.sections import SECTION_IDS, build_sections
from tests.html_page import read_page

GENERATED_AT = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
EMPTY = ReportData(None, [], [], [], [], [], [])


def sample_data() -> ReportData:
    run_at = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    return ReportData(
        latest_business_date=date(2025, 12, 31),
        monthly_revenue=[
            MonthlyChannelRevenue(date(2025, 11, 1), "web", Decimal("10.50")),
            MonthlyChannelRevenue(date(2025, 12, 1), "app", Decimal("3.25")),
        ],
        funnel=[FunnelDay(date(2025, 12, 31), 40, 20, 10, 5)],
        categories=[CategorySales("Toys & <Games>", 7, Decimal("99.99"))],
        open_orders=[OpenOrdersDay(date(2026, 1, 3), 1, 2, 3, Decimal("45.60"))],
        ingest_runs=[IngestRun("run1abcdefgh", "ops", run_at, "ok", 100, 2)],
        builds=[BuildTests("inv1abcdefgh", run_at.replace(tzinfo=None), 300, 1)],
        last_hour=[
            StreamMinute(run_at, 30, 4, 1),
            StreamMinute(run_at.replace(minute=1), 25, 3, 0),
        ],
    )


def page(data: ReportData) -> str:
    sections = build_sections(data, "audit.dbt_results")
    return render_page(sections, GENERATED_AT, data.latest_business_date, "shopflow")


def test_every_section_has_its_stable_id_and_a_heading() -> None:
    html = page(sample_data())
    ids = [attrs["id"] for tag, attrs in read_page(html).tags if tag == "section"]
    assert ids == list(SECTION_IDS)
    for section_id in SECTION_IDS:
        assert f'<h2 id="{section_id}-title">' in html


def test_nothing_is_fetched_from_elsewhere() -> None:
    html = page(sample_data())
    assert "<script" not in html
    for tag, attrs in read_page(html).tags:
        assert "src" not in attrs, tag
        assert not (attrs.get("href") or "#").startswith(("http", "//")), attrs
    assert "@import" not in html
    assert "url(" not in html


def test_an_empty_warehouse_renders_no_data_notes() -> None:
    html = page(EMPTY)
    assert html.count('class="no-data"') == len(SECTION_IDS) + 1  # two ingest charts
    assert '<span id="latest-business-date">none yet</span>' in html


def test_header_shows_when_and_the_latest_business_date() -> None:
    html = page(sample_data())
    assert '<time id="generated-at" datetime="2026-01-02T03:04:00+00:00">' in html
    assert '<time id="latest-business-date" datetime="2025-12-31">2025-12-31</time>' in html


def test_labels_are_escaped_in_the_table_and_the_chart() -> None:
    html = page(sample_data())
    assert "<Games>" not in html
    assert "Toys &amp; &lt;Games&gt;" in html


def test_table_cells_hold_the_values_to_the_cent() -> None:
    dataset = Dataset(
        "Day",
        ("2025-01-01",),
        (Series("Revenue", (Decimal("1.005"),), ValueKind.MONEY), Series("Orders", (3,))),
    )
    html = render_table("sales", dataset, "Caption")
    cells = [attrs for tag, attrs in read_page(html).tags if tag == "td"]
    assert [(c["data-series"], c["data-key"], c["data-value"]) for c in cells] == [
        ("Revenue", "2025-01-01", "1.01"),
        ("Orders", "2025-01-01", "3"),
    ]
    assert "<details>" not in html


def test_long_tables_start_folded() -> None:
    keys = tuple(f"k{i}" for i in range(TABLE_OPEN_MAX_ROWS + 1))
    dataset = Dataset("Key", keys, (Series("n", tuple(range(len(keys)))),))
    assert render_table("long", dataset, "Caption").startswith("<details>")


def test_the_page_is_written_atomically(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "index.html"
    write_atomically(path, lambda stream: stream.write(b"old"))
    write_atomically(path, lambda stream: stream.write(page(sample_data()).encode()))
    assert [p.name for p in path.parent.iterdir()] == ["index.html"]
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert re.fullmatch(
        r".*index\.html: 7 charts, \d+ KiB, latest business date 2025-12-31", summary_line(path)
    )
