"""The business clock on a real run: business today is the latest activity in the facts,
dim_date's windows are relative to it, and the period questions answer by name
(`dbt show -s top_customers_last_quarter`, mart_monthly_revenue_by_channel)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.exports import export_all
from ingestion.settings import Settings
from ingestion.transform.dbt_runner import run_dbt
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLOCK_TEST = "assert_business_today_is_the_latest_activity_in_the_facts"


def test_business_today_is_the_latest_activity_in_the_facts(
    built_warehouse: BuiltWarehouse,
) -> None:
    latest = built_warehouse.scalar(
        "select max(latest) from ("
        " select max(sold_date) as latest from marts.fct_sales"
        " union all select max(ordered_date) from marts.fct_orders"
        " union all select max(event_date) from marts.fct_events) as facts"
    )
    today = built_warehouse.query("select date_day from marts.dim_date where is_business_today")
    assert today == [(latest,)]


def test_the_windows_have_their_length(built_warehouse: BuiltWarehouse) -> None:
    counts = built_warehouse.query(
        "select count(*) filter (where is_last_7_days), count(*) filter (where is_last_30_days),"
        " count(distinct month_start_date) filter (where is_last_month),"
        " count(distinct quarter_start_date) filter (where is_last_quarter),"
        " max(date_day) filter (where is_last_quarter)"
        " < min(date_day) filter (where is_this_quarter)"
        " from marts.dim_date"
    )
    assert counts == [(7, 30, 1, 1, True)]


def test_top_customers_last_quarter_answers_by_name(built_warehouse: BuiltWarehouse) -> None:
    expected = built_warehouse.query(
        "select sales.customer_id, sum(sales.net_revenue_usd) from marts.fct_sales as sales"
        " inner join marts.dim_date as dates on sales.date_key = dates.date_key"
        " where dates.is_last_quarter and sales.is_recognised and sales.customer_id is not null"
        " group by sales.customer_id order by 2 desc, 1 limit 10"
    )
    assert expected, "no recognised sale last quarter: the business clock finds no data"
    output = run_dbt(
        ["show", "-s", "top_customers_last_quarter", "--output", "json", "--limit", "10"],
        built_warehouse.settings,
        Settings.from_environment(),
        stream=False,
    )
    found = re.search(r"^\{$.*^\}$", output, flags=re.S | re.M)  # dbt's log lines around it
    assert found, output
    shown = json.loads(found.group(0))["show"]
    assert [
        (row["customer_id"], round(Decimal(str(row["net_revenue_usd"])), 2)) for row in shown
    ] == [(customer_id, round(revenue, 2)) for customer_id, revenue in expected]
    assert [row["customer_rank"] for row in shown] == list(range(1, len(expected) + 1))


def test_monthly_revenue_by_channel_adds_up_to_monthly_revenue(
    built_warehouse: BuiltWarehouse,
) -> None:
    rows = built_warehouse.query(
        "select monthly.month_start_date, monthly.net_revenue_usd, sum(channels.net_revenue_usd)"
        " from marts.mart_monthly_revenue as monthly"
        " inner join marts.mart_monthly_revenue_by_channel as channels"
        " on monthly.month_start_date = channels.month_start_date"
        " group by monthly.month_start_date, monthly.net_revenue_usd"
    )
    assert rows
    assert all(abs(total - by_channel) <= Decimal("0.01") for _, total, by_channel in rows)
    channels = built_warehouse.query(
        "select distinct channel from marts.mart_monthly_revenue_by_channel order by 1"
    )
    assert [channel for (channel,) in channels] == ["app", "marketplace", "store", "web"]


def test_a_run_for_an_earlier_business_date_answers_as_of_that_day(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    """dbt's var `business_date` (what `shopflow run` passes for SHOPFLOW_BUSINESS_DATE) moves
    business today back; the export stage's dated questions follow it; the next build without
    it puts the clock back on the latest activity."""
    settings = built_warehouse.settings
    today = "select date_day from marts.dim_date where is_business_today"
    (latest,) = built_warehouse.query(today)[0]
    earlier = latest - timedelta(days=45)

    def build_the_clock(dbt_vars: dict[str, str]) -> None:
        selected = ["int_business_clock", "dim_date", CLOCK_TEST]
        run_dbt(
            ["build", "-s", *selected, "--vars", json.dumps(dbt_vars)],
            settings,
            Settings.from_environment(),
            stream=False,
        )

    try:
        build_the_clock({"business_date": earlier.isoformat()})
        assert built_warehouse.query(today) == [(earlier,)]
        assert (
            built_warehouse.scalar("select max(date_day) from marts.dim_date where is_last_7_days")
            == earlier
        )

        results = {r.name: r for r in export_all(settings, tmp_path, as_of_business_day=True)}
        assert results["open_orders"].rows == built_warehouse.scalar(
            "select count(*) from marts.fct_orders"
            f" where is_open and delivery_date >= '{earlier.isoformat()}'"
        )
        months = "select count(*) from marts.mart_monthly_revenue"
        assert results["monthly_revenue"].rows == built_warehouse.scalar(
            f"{months} where month_start_date <= '{earlier.isoformat()}'"
        )
        assert results["monthly_revenue"].rows < built_warehouse.scalar(months), (
            "no month after the business day: the as-of proves nothing"
        )
        # a question without an as-of date exports whole
        assert results["top_customers"].rows == built_warehouse.scalar(
            "select count(*) from marts.mart_top_customers"
        )

        build_the_clock({"business_date": (latest + timedelta(days=300)).isoformat()})
        assert built_warehouse.query(today) == [(latest,)], "a later date never passes the data"
    finally:
        build_the_clock({})
    assert built_warehouse.query(today) == [(latest,)]
