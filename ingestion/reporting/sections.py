"""The report's sections: which figures each chart shows, built from the warehouse's data.

Section ids are stable anchors (``reports/index.html#daily-funnel``): the dbt exposures link
to them, so renaming one means updating ``_marts__exposures.yml`` too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from ingestion.reporting.charts import KEY_LINE_SEPARATOR, line_chart, ranked_bar_chart
from ingestion.reporting.charts import stacked_bar_chart as bars
from ingestion.reporting.datasets import Dataset, Series, ValueKind
from ingestion.reporting.page import Section
from ingestion.reporting.queries import BuildTests, IngestRun, ReportData

MONEY = ValueKind.MONEY
SMALL_CHART_HEIGHT = 220
SECTION_IDS = (
    "revenue-by-channel",
    "daily-funnel",
    "last-hour",
    "top-categories",
    "open-orders",
    "ingest-quality",
    "test-failures",
)


def _in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment


def _utc_label(moment: datetime, identifier: str) -> str:
    """``2026-12-02 12:58 · bc5b2ed1``: a run's start (UTC) and short id."""
    return f"{_in_utc(moment):%Y-%m-%d %H:%M}{KEY_LINE_SEPARATOR}{identifier[:8]}"


def revenue_by_channel(data: ReportData) -> Section:
    months = sorted({row.month_start_date for row in data.monthly_revenue})
    channels = sorted({row.channel for row in data.monthly_revenue})
    revenue = {(r.month_start_date, r.channel): r.net_revenue_usd for r in data.monthly_revenue}
    dataset = Dataset(
        "Month",
        tuple(f"{month:%Y-%m}" for month in months),
        tuple(
            Series(channel, tuple(revenue.get((m, channel), Decimal(0)) for m in months), MONEY)
            for channel in channels
        ),
    )
    title = "Monthly revenue by channel"
    summary = "Recognised net revenue in USD per calendar month, stacked by sales channel."
    chart = bars("revenue-by-channel", title, summary, dataset, "No recognised sales yet.")
    source = "metric revenue (saved query monthly_revenue_by_channel)"
    return Section("revenue-by-channel", title, summary, source, (chart,), dataset)


def daily_funnel(data: ReportData) -> Section:
    steps = ("viewers", "clickers", "cart_adders", "purchasers")
    names = ("Viewers", "Clickers", "Cart adders", "Purchasers")
    dataset = Dataset(
        "Day",
        tuple(day.event_date.isoformat() for day in data.funnel),
        tuple(
            Series(name, tuple(getattr(day, step) for day in data.funnel))
            for step, name in zip(steps, names, strict=True)
        ),
    )
    title = "Daily funnel"
    summary = (
        "Distinct users at each step of the clickstream funnel per day, web and app added "
        "together (a user active on both platforms counts on each)."
    )
    chart = line_chart("daily-funnel", title, summary, dataset, "No clickstream events yet.")
    source = "metrics viewers, clickers, cart_adders, purchasers (saved query daily_funnel)"
    return Section("daily-funnel", title, summary, source, (chart,), dataset)


def last_hour(data: ReportData) -> Section:
    minutes = data.last_hour
    dataset = Dataset(
        "Minute (UTC)",
        tuple(f"{_in_utc(minute.window_start_at):%Y-%m-%d %H:%M}" for minute in minutes),
        (
            Series("Views", tuple(minute.views for minute in minutes)),
            Series("Add to carts", tuple(minute.add_to_carts for minute in minutes)),
            Series("Purchases", tuple(minute.purchases for minute in minutes)),
        ),
    )
    title = "Clickstream, the last hour"
    summary = (
        "Streamed events per minute of event time over the last hour the stream landed, web "
        "and app added together; a minute stays open for late events until the watermark "
        "passes it, so the last minutes may still grow."
    )
    empty = "No streamed events yet (`shopflow stream consume` lands them within seconds)."
    chart = line_chart("last-hour", title, summary, dataset, empty)
    source = "realtime.funnel_per_minute (the stream consumer)"
    return Section("last-hour", title, summary, source, (chart,), dataset)


def top_categories(data: ReportData) -> Section:
    dataset = Dataset(
        "Category",
        tuple(row.category for row in data.categories),
        (
            Series("Net revenue (USD)", tuple(r.net_revenue_usd for r in data.categories), MONEY),
            Series("Units sold", tuple(r.units_sold for r in data.categories)),
        ),
    )
    title = "Top categories"
    summary = (
        "Recognised net revenue per product category (the category each product had when "
        "it sold), best first."
    )
    chart = ranked_bar_chart("top-categories", title, summary, dataset, "No recognised sales yet.")
    source = "metrics revenue, units (saved query top_categories)"
    return Section("top-categories", title, summary, source, (chart,), dataset)


def open_orders(data: ReportData) -> Section:
    rows = data.open_orders
    dataset = Dataset(
        "Promised delivery date",
        tuple(row.delivery_date.isoformat() for row in rows),
        (
            Series("Pending", tuple(row.pending_orders for row in rows)),
            Series("Paid", tuple(row.paid_orders for row in rows)),
            Series("Open orders", tuple(row.open_orders for row in rows)),
            Series("Open amount (USD)", tuple(row.open_amount_usd for row in rows), MONEY),
        ),
    )
    title = "Open orders by delivery date"
    summary = (
        "Orders not shipped yet per promised delivery date: pending (not paid) and paid "
        "(waiting to ship)."
    )
    chart = bars("open-orders", title, summary, dataset.only("Pending", "Paid"), "No open orders.")
    source = "metrics open_orders, open_order_value by order status"
    return Section("open-orders", title, summary, source, (chart,), dataset)


def _per_run(runs: list[IngestRun], sources: list[str], field: str) -> tuple[Series, ...]:
    keys = list(dict.fromkeys(run.run_id for run in runs))
    values = {(run.run_id, run.source): getattr(run, field) for run in runs}
    return tuple(
        Series(source, tuple(values.get((key, source), 0) for key in keys)) for source in sources
    )


def ingest_quality(data: ReportData) -> Section:
    runs = data.ingest_runs
    sources = list(dict.fromkeys(run.source for run in runs))
    firsts: dict[str, IngestRun] = {}
    for run in runs:
        firsts.setdefault(run.run_id, run)
    keys = tuple(_utc_label(run.started_at, run.run_id) for run in firsts.values())
    loaded = Dataset("Run (UTC)", keys, _per_run(runs, sources, "rows_loaded"))
    rejected = Dataset("Run (UTC)", keys, _per_run(runs, sources, "rows_rejected"))
    table = Dataset(
        "Run (UTC)",
        keys,
        tuple(Series(f"Loaded: {s.name}", s.values) for s in loaded.series)
        + tuple(Series(f"Rejected: {s.name}", s.values) for s in rejected.series),
    )
    total_rejected = sum(sum(s.values) for s in rejected.series)
    title = "Rows loaded and rejected per run"
    summary = (
        f"The ingest stage of {_last(len(keys), 'pipeline run')}: rows landed per source "
        f"(top) and rows refused into rejected_records (bottom; {total_rejected:,} in all)."
    )
    empty = "No pipeline run recorded yet."
    figures = (
        bars("ingest-loaded", "Rows loaded per run", "Rows loaded, by source.", loaded, empty),
        bars(
            "ingest-rejected",
            "Rows rejected per run",
            "Rows rejected, by source.",
            rejected,
            empty,
            all_zero="No row rejected in these runs.",
            height=SMALL_CHART_HEIGHT,
        ),
    )
    source = "audit.pipeline_runs (stage ingest)"
    return Section("ingest-quality", title, summary, source, figures, table)


def test_failures(builds: list[BuildTests], results_table: str) -> Section:
    ordered = sorted(builds, key=lambda build: build.run_started_at)
    keys = tuple(_utc_label(b.run_started_at, b.invocation_id) for b in ordered)
    table = Dataset(
        "dbt build (UTC)",
        keys,
        (
            Series("Failing tests", tuple(b.failing_tests for b in ordered)),
            Series("Tests", tuple(b.tests for b in ordered)),
        ),
    )
    failing = sum(b.failing_tests for b in ordered)
    title = "Failing tests per dbt build"
    summary = f"Data and unit tests that failed or errored in {_last(len(keys), 'dbt build')}: " + (
        f"{failing:,} failures in all." if failing else "every test passed."
    )
    chart = bars(
        "test-failures",
        title,
        summary,
        table.only("Failing tests"),
        "No dbt build recorded yet.",
        all_zero="Every test passed.",
        height=SMALL_CHART_HEIGHT,
    )
    return Section("test-failures", title, summary, results_table, (chart,), table)


def _last(count: int, noun: str) -> str:
    """``the last dbt build`` or ``the last 3 dbt builds``."""
    return f"the last {noun}" if count == 1 else f"the last {count} {noun}s"


def build_sections(data: ReportData, results_table: str) -> list[Section]:
    """Every section of the report, in page order (``SECTION_IDS``)."""
    return [
        revenue_by_channel(data),
        daily_funnel(data),
        last_hour(data),
        top_categories(data),
        open_orders(data),
        ingest_quality(data),
        test_failures(data.builds, results_table),
    ]
