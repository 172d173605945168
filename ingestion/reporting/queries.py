"""What the report shows, read from the warehouse: the semantic layer's saved queries for the
business charts (revenue by channel, the funnel, top categories and open orders: the metrics
defined once in dbt_project/models/marts/_marts__metrics.yml), the audit tables for data quality.

Schemas follow ``macros/generate_schema_name.sql``: each dbt layer has its own schema
(``marts``, ``audit``), or ``<prefix>_<layer>`` when ``SHOPFLOW_SCHEMA_PREFIX`` is set (slim
CI). ``audit.pipeline_runs`` is written by the orchestration, not by dbt: never prefixed.
Money is rounded to the cent here, once, so the chart and its table show the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import psycopg2.extensions
from psycopg2 import sql

from ingestion.database.connection import autocommit, database_exists
from ingestion.database.errors import WarehouseNotBuiltError
from ingestion.semantic import MetricTable, SemanticLayer, SemanticLayerNotBuiltError
from ingestion.settings import ConnectionSettings
from ingestion.streaming.windows import SCHEMA as REALTIME_SCHEMA

STREAM_FUNNEL = (REALTIME_SCHEMA, "funnel_per_minute")
"""Kept by the stream consumer (ingestion/streaming/windows.py), in the same transaction as
the raw rows it counts."""
PIPELINE_RUNS = ("audit", "pipeline_runs")
"""Written by the orchestration (ingestion/loading/audit.py) in a fixed schema."""
DBT_RESULTS_TABLE = "dbt_results"
"""Written by the on-run-end hook (macros/audit/) in the ``dbt_results_schema`` var's schema."""
REQUIRED_MARTS = ("fct_sales", "fct_orders", "fct_events", "dim_products", "dim_date")
"""The marts the report's metrics read (their semantic models): all must exist first."""


def schema_name(layer: str, prefix: str = "") -> str:
    """The schema of a dbt layer, as ``generate_schema_name`` names it."""
    prefix = prefix.strip()
    return f"{prefix}_{layer}" if prefix else layer


@dataclass(frozen=True)
class MonthlyChannelRevenue:
    month_start_date: date
    channel: str
    net_revenue_usd: Decimal


@dataclass(frozen=True)
class FunnelDay:
    event_date: date
    viewers: int
    clickers: int
    cart_adders: int
    purchasers: int


@dataclass(frozen=True)
class CategorySales:
    category: str
    units_sold: int
    net_revenue_usd: Decimal


@dataclass(frozen=True)
class OpenOrdersDay:
    delivery_date: date
    pending_orders: int
    paid_orders: int
    open_orders: int
    open_amount_usd: Decimal


@dataclass(frozen=True)
class IngestRun:
    """One pipeline run's ingest stage, one row per source."""

    run_id: str
    source: str
    started_at: datetime
    status: str
    rows_loaded: int
    rows_rejected: int


@dataclass(frozen=True)
class BuildTests:
    """One ``dbt build`` invocation's tests."""

    invocation_id: str
    run_started_at: datetime
    tests: int
    failing_tests: int


@dataclass(frozen=True)
class StreamMinute:
    """One minute of streamed clickstream events (``realtime.funnel_per_minute``), both
    platforms together."""

    window_start_at: datetime
    views: int
    add_to_carts: int
    purchases: int


@dataclass(frozen=True)
class ReportData:
    latest_business_date: date | None
    monthly_revenue: list[MonthlyChannelRevenue]
    funnel: list[FunnelDay]
    categories: list[CategorySales]
    open_orders: list[OpenOrdersDay]
    ingest_runs: list[IngestRun]
    builds: list[BuildTests]
    last_hour: list[StreamMinute] = field(default_factory=list)
    """Empty when the stream has never landed an event (no ``realtime`` schema)."""


LATEST_BUSINESS_DATE = "select max(ordered_date) from {marts}.fct_orders"

LAST_HOUR = """
    select funnel.window_start_at, sum(funnel.views), sum(funnel.add_to_carts),
        sum(funnel.purchases)
    from {funnel} as funnel
    where funnel.window_start_at > (select max(window_start_at) from {funnel}) - interval '1 hour'
    group by funnel.window_start_at
    order by funnel.window_start_at
"""
"""The last hour of event time the stream has landed (not of the wall clock: a consumer that
stopped leaves its last hour on the page, dated)."""

INGEST_RUNS = """
    select run_id, source, started_at, status, coalesce(rows_loaded, 0),
        coalesce(rows_rejected, 0)
    from {runs}
    where stage = 'ingest' and run_id in (
        select run_id from {runs} where stage = 'ingest'
        group by run_id order by max(started_at) desc limit %(last)s
    )
    order by started_at, source
"""

BUILDS = """
    select
        invocation_id,
        min(run_started_at) as run_started_at,
        count(*) filter (where resource_type in ('test', 'unit_test')),
        count(*) filter (
            where resource_type in ('test', 'unit_test') and status in ('fail', 'error')
        )
    from {results}
    where command = 'build'
    group by invocation_id
    order by run_started_at desc
    limit %(last)s
"""


def _missing_relations(
    cursor: psycopg2.extensions.cursor, relations: list[tuple[str, str]]
) -> list[str]:
    names = [f"{schema}.{table}" for schema, table in relations]
    cursor.execute(
        "select name from unnest(%s::text[]) as name where to_regclass(quote_ident("
        "split_part(name, '.', 1)) || '.' || quote_ident(split_part(name, '.', 2))) is null",
        (names,),
    )
    return [row[0] for row in cursor.fetchall()]


def _fetch(
    cursor: psycopg2.extensions.cursor,
    template: str,
    params: dict[str, object] | None = None,
    /,
    **relations: tuple[str, ...],
) -> list[tuple]:
    identifiers = {name: sql.Identifier(*parts) for name, parts in relations.items()}
    cursor.execute(sql.SQL(template).format(**identifiers), params)
    return list(cursor.fetchall())


CENT = Decimal("0.01")
FUNNEL_STEPS = ("viewers", "clickers", "cart_adders", "purchasers")


def _cents(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(CENT, rounding=ROUND_HALF_UP)


def _day(value: datetime | date) -> date:
    """MetricFlow's metric_time is a timestamp at the start of its period."""
    return value.date() if isinstance(value, datetime) else value


def _monthly_revenue(answer: MetricTable) -> list[MonthlyChannelRevenue]:
    return [
        MonthlyChannelRevenue(
            _day(row["metric_time__month"]), row["channel"], _cents(row["revenue"])
        )
        for row in answer.records()
        if row["revenue"] is not None
    ]


def _funnel(answer: MetricTable) -> list[FunnelDay]:
    """The saved query's platforms added up per day, as the chart shows a day."""
    days: dict[date, list[int]] = {}
    for row in answer.records():
        steps = days.setdefault(_day(row["metric_time__day"]), [0] * len(FUNNEL_STEPS))
        for index, step in enumerate(FUNNEL_STEPS):
            steps[index] += int(row[step] or 0)
    return [FunnelDay(day, *steps) for day, steps in sorted(days.items())]


def _categories(answer: MetricTable, top: int) -> list[CategorySales]:
    return [
        CategorySales(row["product_version__category"], int(row["units"]), _cents(row["revenue"]))
        for row in answer.records()[:top]
    ]


def _open_orders(answer: MetricTable) -> list[OpenOrdersDay]:
    """Open orders per promised delivery day, split by status (pending or paid)."""
    days: dict[date, dict[str, Decimal]] = {}
    for row in answer.records():
        figures = days.setdefault(_day(row["metric_time__day"]), {})
        status = str(row["sales_order__order_status"])
        figures[status] = figures.get(status, Decimal(0)) + Decimal(row["open_orders"] or 0)
        figures["value"] = figures.get("value", Decimal(0)) + Decimal(row["open_order_value"] or 0)
    return [
        OpenOrdersDay(
            day,
            int(figures.get("pending", 0)),
            int(figures.get("paid", 0)),
            int(figures.get("pending", 0) + figures.get("paid", 0)),
            _cents(figures["value"]),
        )
        for day, figures in sorted(days.items())
    ]


def read_report_data(
    settings: ConnectionSettings,
    schema_prefix: str = "",
    last_runs: int = 10,
    top_categories: int = 10,
    layer: SemanticLayer | None = None,
) -> ReportData:
    """Everything the report draws, or ``WarehouseNotBuiltError`` saying what to run first.
    ``layer`` defaults to the semantic layer dbt's last parse or build wrote."""
    marts = schema_name("marts", schema_prefix)
    results = (schema_name("audit", schema_prefix), DBT_RESULTS_TABLE)
    needed = [(marts, mart) for mart in REQUIRED_MARTS] + [PIPELINE_RUNS, results]
    if not database_exists(settings, settings.database):
        raise WarehouseNotBuiltError(
            f"The warehouse {settings.database!r} does not exist yet. "
            "Run `shopflow run` (or `make demo`) first."
        )
    with autocommit(settings, settings.database) as cursor:
        missing = _missing_relations(cursor, needed)
        if missing:
            more = f" and {len(missing) - 1} more relations" if len(missing) > 1 else ""
            raise WarehouseNotBuiltError(
                f"The warehouse {settings.database!r} has not been built yet "
                f"(no {missing[0]}{more}). Run `shopflow run` (or `make demo`) first."
            )
        try:
            metrics = layer or SemanticLayer.from_target()
        except SemanticLayerNotBuiltError as error:
            raise WarehouseNotBuiltError(str(error)) from None
        schema = {"marts": (marts,)}
        latest = _fetch(cursor, LATEST_BUSINESS_DATE, **schema)[0][0]
        return ReportData(
            latest_business_date=latest,
            monthly_revenue=_monthly_revenue(
                metrics.saved_query(cursor, "monthly_revenue_by_channel")
            ),
            funnel=_funnel(metrics.saved_query(cursor, "daily_funnel")),
            categories=_categories(metrics.saved_query(cursor, "top_categories"), top_categories),
            open_orders=_open_orders(
                metrics.metrics(
                    cursor,
                    ["open_orders", "open_order_value"],
                    group_by=["metric_time__day", "sales_order__order_status"],
                    where=["{{ Dimension('sales_order__is_open') }}"],
                )
            ),
            ingest_runs=[
                IngestRun(*row)
                for row in _fetch(cursor, INGEST_RUNS, {"last": last_runs}, runs=PIPELINE_RUNS)
            ],
            builds=[
                BuildTests(*row)
                for row in _fetch(cursor, BUILDS, {"last": last_runs}, results=results)
            ],
            last_hour=last_hour_minutes(cursor),
        )


def last_hour_minutes(cursor: psycopg2.extensions.cursor) -> list[StreamMinute]:
    """The stream's last hour, per minute; none when the stream never ran here."""
    if _missing_relations(cursor, [STREAM_FUNNEL]):
        return []
    rows = _fetch(cursor, LAST_HOUR, funnel=STREAM_FUNNEL)
    return [StreamMinute(at, int(views), int(carts), int(buys)) for at, views, carts, buys in rows]
