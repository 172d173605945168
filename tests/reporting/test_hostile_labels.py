"""Outputs that attack their readers: every value the report takes from the warehouse (a
category, a channel, a source, a run id, the database's name) is shown as text, never as markup.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from xml.etree import ElementTree

import pytest

from ingestion.reporting.page import render_page
from ingestion.reporting.queries import (
    BuildTests,
    CategorySales,
    FunnelDay,
    IngestRun,
    MonthlyChannelRevenue,
    OpenOrdersDay,
    ReportData,
)
from ingestion.reporting.sections import build_sections
from tests.html_page import read_page

HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "'><svg onload=alert(1)>",
    "</title><script>alert(2)</script>",
    "<![CDATA[x]]>&amp;",
    '=HYPERLINK("http://evil.example")\nsecond line',
)
PAGE_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "h1", "p", "time", "code",
    "span", "nav", "a", "main", "section", "h2", "figure", "figcaption", "svg", "desc", "g",
    "rect", "line", "polyline", "text", "tspan", "table", "caption", "thead", "tbody", "tr",
    "th", "td", "details", "summary", "footer",
}  # fmt: skip
"""Every element the report draws itself: anything else would be injected markup."""


def hostile_page(label: str) -> str:
    run_at = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    data = ReportData(
        latest_business_date=date(2025, 12, 31),
        monthly_revenue=[MonthlyChannelRevenue(date(2025, 12, 1), label, Decimal("-3.25"))],
        funnel=[FunnelDay(date(2025, 12, 31), 40, 20, 10, 5)],
        categories=[CategorySales(label, 7, Decimal("99.99"))],
        open_orders=[OpenOrdersDay(date(2026, 1, 3), 1, 2, 3, Decimal("45.60"))],
        ingest_runs=[IngestRun(label, label, run_at, "ok", 100, 2)],
        builds=[BuildTests(label, run_at.replace(tzinfo=None), 300, 1)],
    )
    sections = build_sections(data, label)
    return render_page(sections, run_at, data.latest_business_date, label)


@pytest.mark.parametrize("label", HOSTILE)
def test_a_hostile_label_is_text_everywhere_it_appears(label: str) -> None:
    html = hostile_page(label)
    parsed = read_page(html)

    assert {tag for tag, _ in parsed.tags} <= PAGE_TAGS
    handlers = [name for _, attrs in parsed.tags for name in attrs if name.startswith("on")]
    assert handlers == []
    assert not [
        attrs
        for tag, attrs in parsed.tags
        if "src" in attrs or ("href" in attrs and not (attrs["href"] or "").startswith("#"))
    ]
    # shown as written: in the category table, as a data-key and as chart text
    assert label in parsed.text
    assert any(attrs.get("data-key") == label for _, attrs in parsed.tags)
    for svg in html.split("<svg ")[1:]:
        ElementTree.fromstring("<svg " + svg.split("</svg>")[0] + "</svg>")
