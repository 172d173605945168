"""The SVG charts: drawn from a dataset, escaped, and a sentence instead of a chart when empty."""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree

import pytest

from ingestion.reporting.charts import line_chart, ranked_bar_chart, stacked_bar_chart
from ingestion.reporting.datasets import Dataset, Series, ValueKind
from ingestion.reporting.svg import esc, nice_ticks

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = (stacked_bar_chart, line_chart, ranked_bar_chart)


def revenue(keys: tuple[str, ...], *values: str) -> Dataset:
    return Dataset(
        "Category", keys, (Series("Net revenue", tuple(map(Decimal, values)), ValueKind.MONEY),)
    )


def parse(svg: str) -> ElementTree.Element:
    """The chart as XML: proves it is well-formed (escaping included)."""
    return ElementTree.fromstring(svg)


@pytest.mark.parametrize("chart", CHARTS)
def test_an_empty_dataset_renders_a_no_data_note(chart) -> None:
    empty = Dataset("Day", (), (Series("Viewers", ()),))
    html = chart("empty", "Title", "Description", empty, "Nothing sold yet.")
    assert html == '<p class="no-data">Nothing sold yet.</p>'


@pytest.mark.parametrize("chart", CHARTS)
def test_labels_are_escaped_and_the_svg_stays_well_formed(chart) -> None:
    dataset = revenue(("Toys & <Games>", 'Say "hi"'), "10.5", "3")
    svg = chart("escaping", "Sales <by> category & more", "A & B", dataset, "none")
    root = parse(svg)
    assert "<Games>" not in svg
    assert root.find(f"{SVG}title").text == "Sales <by> category & more"
    if chart is not line_chart:  # the line chart labels days on its axis, not keys per mark
        labels = [element.get("data-key") for element in root.iter(f"{SVG}rect")]
        assert "Toys & <Games>" in labels


@pytest.mark.parametrize("chart", CHARTS)
def test_one_point_or_only_zeros_draw_without_dividing_by_zero(chart) -> None:
    for dataset in (revenue(("only",), "0"), revenue(("a", "b"), "0", "0")):
        parse(chart("zeros", "Title", "Description", dataset, "none"))


def test_bars_carry_their_values_to_the_cent() -> None:
    dataset = Dataset(
        "Month",
        ("2025-01", "2025-02"),
        (
            Series("web", (Decimal("100.005"), Decimal(0)), ValueKind.MONEY),
            Series("app", (Decimal("1.2"), Decimal("7")), ValueKind.MONEY),
        ),
    )
    root = parse(stacked_bar_chart("revenue", "Revenue", "By channel", dataset, "none"))
    values = {
        (rect.get("data-series"), rect.get("data-key")): rect.get("data-value")
        for rect in root.iter(f"{SVG}rect")
        if rect.get("data-series")
    }
    assert values == {
        ("web", "2025-01"): "100.01",
        ("web", "2025-02"): "0.00",
        ("app", "2025-01"): "1.20",
        ("app", "2025-02"): "7.00",
    }


def test_an_all_zero_chart_says_so() -> None:
    dataset = Dataset("Build", ("b1", "b2"), (Series("Failing tests", (0, 0)),))
    svg = stacked_bar_chart("tests", "Failing", "d", dataset, "none", all_zero="Every test passed.")
    assert "Every test passed." in svg


def test_the_chart_has_an_accessible_name() -> None:
    root = parse(line_chart("funnel", "Daily funnel", "Users per step", revenue(("d",), "1"), "-"))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "funnel-svg-title funnel-svg-desc"
    assert root.find(f"{SVG}desc").text == "Users per step"


@pytest.mark.parametrize(
    ("maximum", "expected_top"), [(0, 1), (7, 8), (73_744, 80_000), (0.3, 0.3), (1, 1)]
)
def test_ticks_are_round_and_reach_the_maximum(maximum: float, expected_top: float) -> None:
    ticks = nice_ticks(maximum)
    assert ticks[0] == 0
    assert ticks[-1] == pytest.approx(expected_top)
    assert ticks[-1] >= maximum


def test_esc_escapes_quotes_for_attributes() -> None:
    assert esc('a"b<c>&') == "a&quot;b&lt;c&gt;&amp;"
