"""`shopflow report` on a really built warehouse, opened in headless Chromium: the page renders
(the screenshot is not blank), every chart is there with its SVG, and every figure it shows
equals the marts and audit tables, money to the cent."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.reporting.sections import SECTION_IDS
from ingestion.settings import ENV_DATABASE
from tests.pipeline.support import chromium
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

WINDOW = (1280, 3000)
LAST_RUNS = 10
"""Runs and builds the report shows (read_report_data's default)."""
Cells = dict[tuple[str, str], str]
"""(series, key) -> data-value of one section's table."""


class RenderedReport(HTMLParser):
    """What the browser rendered: sections with their SVG count and table cells."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.svgs: dict[str, int] = defaultdict(int)
        self.cells: dict[str, Cells] = defaultdict(dict)
        self.latest_business_date: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section":
            self.section = values["id"]
            self.svgs[self.section] += 0
        elif tag == "svg" and self.section:
            self.svgs[self.section] += 1
        elif tag == "td" and self.section and "data-value" in values:
            key = (str(values["data-series"]), str(values["data-key"]))
            self.cells[self.section][key] = str(values["data-value"])
        elif values.get("id") == "latest-business-date":
            self.latest_business_date = values.get("datetime")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.section = None


@pytest.fixture(scope="module")
def report_file(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "index.html: 7 charts" in result.output
    return out / "index.html"


@pytest.fixture(scope="module")
def rendered(report_file: Path, tmp_path_factory: pytest.TempPathFactory) -> RenderedReport:
    dom = chromium(tmp_path_factory.mktemp("chromium-dom"), "--dump-dom", report_file.as_uri())
    page = RenderedReport()
    page.feed(dom)
    return page


def money(value: object) -> str:
    return f"{Decimal(str(value)):.2f}"


def test_the_screenshot_is_not_blank(report_file: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        report_file.as_uri(),
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == WINDOW
    colours = image.getcolors(maxcolors=WINDOW[0] * WINDOW[1]) or []
    assert len(colours) > 200, "the page rendered (nearly) one colour"
    chart_blue = (0x00, 0x72, 0xB2)
    assert any(rgb == chart_blue for _, rgb in colours), "no chart bar was painted"


def test_every_chart_section_is_there_with_its_svg(rendered: RenderedReport) -> None:
    assert list(rendered.svgs) == list(SECTION_IDS)
    # no stream ran in this world: its chart is a note saying how to start one
    assert rendered.svgs.pop("last-hour") == 0
    for section_id, svgs in rendered.svgs.items():
        assert svgs >= 1, f"section {section_id} has no chart"
    assert rendered.svgs["ingest-quality"] == 2


def test_header_shows_the_latest_business_date(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    latest = built_warehouse.scalar("select max(ordered_date) from marts.fct_orders")
    assert rendered.latest_business_date == latest.isoformat()  # type: ignore[attr-defined]


def test_monthly_revenue_equals_the_mart(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    rows = built_warehouse.query(
        "select to_char(sold_date, 'YYYY-MM'), channel, sum(net_revenue_usd)"
        " from marts.mart_daily_sales group by 1, 2"
    )
    expected = {(channel, month): money(revenue) for month, channel, revenue in rows}
    shown = rendered.cells["revenue-by-channel"]
    assert expected
    # a channel without sales in a month is shown as 0.00
    assert {k: v for k, v in shown.items() if k in expected or v != "0.00"} == expected


def test_daily_funnel_equals_the_mart(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    rows = built_warehouse.query(
        "select event_date, sum(viewers), sum(clickers), sum(cart_adders), sum(purchasers)"
        " from marts.mart_funnel_daily group by event_date"
    )
    steps = ("Viewers", "Clickers", "Cart adders", "Purchasers")
    expected = {
        (step, day.isoformat()): str(value)
        for day, *values in rows
        for step, value in zip(steps, values, strict=True)
    }
    assert expected
    assert rendered.cells["daily-funnel"] == expected


def test_top_categories_equal_the_mart(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    rows = built_warehouse.query(
        "select category, sum(units_sold), sum(net_revenue_usd)"
        " from marts.mart_best_sellers_by_category group by category"
        " order by sum(net_revenue_usd) desc limit 10"
    )
    expected: Cells = {}
    for category, units, revenue in rows:
        expected[("Units sold", category)] = str(units)
        expected[("Net revenue (USD)", category)] = money(revenue)
    assert expected
    assert rendered.cells["top-categories"] == expected


def test_open_orders_equal_the_mart(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    rows = built_warehouse.query(
        "select delivery_date, pending_orders, paid_orders, open_orders, open_amount_usd"
        " from marts.mart_open_orders_by_delivery_date"
    )
    expected: Cells = {}
    for day, pending, paid, open_orders, amount in rows:
        key = day.isoformat()
        expected.update(
            {
                ("Pending", key): str(pending),
                ("Paid", key): str(paid),
                ("Open orders", key): str(open_orders),
                ("Open amount (USD)", key): money(amount),
            }
        )
    assert rendered.cells["open-orders"] == expected


def by_short_id(cells: Cells) -> Cells:
    """Table keys are ``<started> · <first 8 characters of the id>``: keep the id."""
    return {(series, key.rsplit(" · ", 1)[1]): value for (series, key), value in cells.items()}


def assert_last_ones_shown(shown: Cells, expected: Cells) -> None:
    """The report shows the last LAST_RUNS runs or builds, each with the audit's figures."""
    ids = {key for _, key in expected}
    shown_ids = {key for _, key in shown}
    assert len(shown_ids) == min(len(ids), LAST_RUNS)
    assert shown == {(series, key): v for (series, key), v in expected.items() if key in shown_ids}


def test_rows_loaded_and_rejected_equal_the_pipeline_runs(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    rows = built_warehouse.query(
        "select left(run_id, 8), source, rows_loaded, rows_rejected from audit.pipeline_runs"
        " where stage = 'ingest'"
    )
    expected: Cells = {}
    for run, source, loaded, rejected in rows:
        expected[(f"Loaded: {source}", run)] = str(loaded)
        expected[(f"Rejected: {source}", run)] = str(rejected)
    assert expected
    assert_last_ones_shown(by_short_id(rendered.cells["ingest-quality"]), expected)


def test_failing_tests_equal_the_dbt_results(
    rendered: RenderedReport, built_warehouse: BuiltWarehouse
) -> None:
    rows = built_warehouse.query(
        "select left(invocation_id, 8),"
        " count(*) filter (where resource_type in ('test', 'unit_test')"
        "   and status in ('fail', 'error')),"
        " count(*) filter (where resource_type in ('test', 'unit_test'))"
        " from audit.dbt_results where command = 'build' group by invocation_id"
    )
    expected: Cells = {}
    for invocation, failing, tests in rows:
        expected[("Failing tests", invocation)] = str(failing)
        expected[("Tests", invocation)] = str(tests)
    assert expected
    assert_last_ones_shown(by_short_id(rendered.cells["test-failures"]), expected)


def test_a_warehouse_not_built_yet_is_one_sentence(
    built_warehouse: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # the session's operations database exists but has no marts
    monkeypatch.setenv(ENV_DATABASE, built_warehouse.settings.ops_database)
    result = CliRunner().invoke(app, ["report", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "has not been built yet" in result.output
    assert "Run `shopflow run`" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "index.html").exists()
