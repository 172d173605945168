"""The semantic layer on the session's built warehouse: `mf validate-configs` and `mf query` run
from the project's virtualenv, and every metric a mart also answers equals the mart to the cent
(monthly revenue by channel, AOV by country, the daily funnel, ROAS, top categories, open
orders), on the first run's world and again after a tick; "last complete quarter" asked of
the metrics returns dim_date's months."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.semantic import MetricTable, SemanticLayer
from ingestion.semantic.layer import SEMANTIC_MANIFEST
from ingestion.settings import ENV_DBT_TARGET_PATH
from ingestion.transform.dbt_profile import write_profile
from tests.pipeline.support import copy_dbt_project
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MF_TIMEOUT_SECONDS = 180
CENT = Decimal("0.01")
Row = dict[str, object]


def cents(value: object) -> Decimal | None:
    """Money (or a ratio's numerator) rounded to the cent, None kept."""
    return None if value is None else Decimal(str(value)).quantize(CENT)


def same_ratio(got: object, expected: object) -> bool:
    """A ratio (ROAS, growth) within a millionth: MetricFlow divides in floating point, the
    marts in numeric(28,6)."""
    if got is None or expected is None:
        return got is expected
    return abs(Decimal(str(got)) - Decimal(str(expected))) <= Decimal("0.000001")


def day(value: object) -> date:
    """MetricFlow's metric_time is a timestamp at the start of its period; the marts' a date."""
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


@pytest.fixture(scope="module", params=["first run", "after a tick"])
def world(request: pytest.FixtureRequest, built_warehouse: BuiltWarehouse) -> BuiltWarehouse:
    """The session's warehouse, then the same after the sources moved on a week."""
    if request.param == "after a tick":
        ticked, _ = request.getfixturevalue("ticked_warehouse")
        return ticked
    return built_warehouse


@pytest.fixture
def layer(world: BuiltWarehouse) -> SemanticLayer:
    """The semantic layer the pipeline's own dbt build wrote for this warehouse."""
    return SemanticLayer(world.target_dir / SEMANTIC_MANIFEST)


def ask(world: BuiltWarehouse, layer: SemanticLayer, saved_query: str) -> list[Row]:
    with autocommit(world.settings, world.settings.database) as cursor:
        return layer.saved_query(cursor, saved_query).records()


def mart(world: BuiltWarehouse, statement: str) -> list[Row]:
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute(statement)
        table = MetricTable(tuple(c.name for c in cursor.description), cursor.fetchall())
    return table.records()


def test_monthly_revenue_by_channel_equals_its_mart(
    world: BuiltWarehouse, layer: SemanticLayer
) -> None:
    metrics = {
        (day(row["metric_time__month"]), row["channel"]): row
        for row in ask(world, layer, "monthly_revenue_by_channel")
        if row["revenue"] is not None
    }
    marts = {
        (row["month_start_date"], row["channel"]): row
        for row in mart(world, "select * from marts.mart_monthly_revenue_by_channel")
        if row["recognised_orders"]
    }
    assert metrics.keys() == marts.keys() and len(marts) > 12
    for key, expected in marts.items():
        got = metrics[key]
        assert cents(got["revenue"]) == cents(expected["net_revenue_usd"]), key
        assert got["orders"] == expected["recognised_orders"], key
        assert cents(got["average_order_value"]) == cents(expected["average_order_value_usd"])
        if expected["previous_month_revenue_usd"]:
            assert same_ratio(got["revenue_growth_mom"], expected["month_over_month_growth_rate"])


def test_aov_by_country_equals_its_mart(world: BuiltWarehouse, layer: SemanticLayer) -> None:
    metrics = {
        row["customer_version__country_code"]: row for row in ask(world, layer, "aov_by_country")
    }
    marts = {
        row["country_code"]: row for row in mart(world, "select * from marts.mart_aov_by_country")
    }
    assert metrics.keys() == marts.keys() and len(marts) > 3
    for country, expected in marts.items():
        got = metrics[country]
        assert cents(got["revenue"]) == cents(expected["net_revenue_usd"]), country
        assert got["orders"] == expected["recognised_orders"], country
        assert cents(got["average_order_value"]) == cents(expected["average_order_value_usd"])


def test_daily_funnel_equals_its_mart(world: BuiltWarehouse, layer: SemanticLayer) -> None:
    steps = ("viewers", "clickers", "cart_adders", "purchasers")
    metrics = {
        (day(row["metric_time__day"]), row["event__platform"]): tuple(row[s] or 0 for s in steps)
        for row in ask(world, layer, "daily_funnel")
    }
    marts = {
        (row["event_date"], row["platform"]): tuple(row[s] for s in steps)
        for row in mart(world, "select * from marts.mart_funnel_daily")
    }
    assert metrics == marts and len(marts) > 100
    conversions = [row["funnel_conversion"] for row in ask(world, layer, "daily_funnel")]
    assert all(value is None or 0 <= value <= 1 for value in conversions)
    assert any(value for value in conversions)


def test_roas_by_channel_and_month_equals_its_mart(
    world: BuiltWarehouse, layer: SemanticLayer
) -> None:
    metrics = {
        (day(row["metric_time__month"]), row["channel"]): row
        for row in ask(world, layer, "roas_by_channel_and_month")
    }
    marts = {
        (row["month_start_date"], row["channel"]): row
        for row in mart(
            world,
            "select date_trunc('month', activity_date)::date as month_start_date, channel,"
            " sum(spend_usd) as spend_usd, sum(net_revenue_usd) as net_revenue_usd,"
            " sum(net_revenue_usd) / nullif(sum(spend_usd), 0) as return_on_ad_spend"
            " from marts.mart_marketing_roas group by 1, 2",
        )
    }
    assert metrics.keys() == marts.keys() and len(marts) > 12
    for key, expected in marts.items():
        got = metrics[key]
        assert cents(got["marketing_spend"] or 0) == cents(expected["spend_usd"]), key
        assert cents(got["revenue"] or 0) == cents(expected["net_revenue_usd"]), key
        assert same_ratio(got["roas"], expected["return_on_ad_spend"]), key


def test_top_categories_equal_their_mart(world: BuiltWarehouse, layer: SemanticLayer) -> None:
    metrics = [
        (row["product_version__category"], row["units"], cents(row["revenue"]))
        for row in ask(world, layer, "top_categories")
    ]
    marts = [
        (row["category"], row["units_sold"], cents(row["net_revenue_usd"]))
        for row in mart(
            world,
            "select category, sum(units_sold) as units_sold, sum(net_revenue_usd) as"
            " net_revenue_usd from marts.mart_best_sellers_by_category group by category"
            " order by net_revenue_usd desc, category",
        )
    ]
    assert metrics == marts and len(marts) > 3


def test_open_orders_by_delivery_date_equal_their_mart(
    world: BuiltWarehouse, layer: SemanticLayer
) -> None:
    metrics = [
        (day(row["metric_time__day"]), row["open_orders"], cents(row["open_order_value"]))
        for row in ask(world, layer, "open_orders_by_delivery_date")
    ]
    marts = [
        (row["delivery_date"], row["open_orders"], cents(row["open_amount_usd"]))
        for row in mart(
            world,
            "select delivery_date, open_orders, open_amount_usd"
            " from marts.mart_open_orders_by_delivery_date order by delivery_date",
        )
    ]
    assert metrics == marts and marts


def test_last_complete_quarter_is_dim_dates(world: BuiltWarehouse, layer: SemanticLayer) -> None:
    with autocommit(world.settings, world.settings.database) as cursor:
        answer = layer.metrics(
            cursor,
            ["revenue", "new_customers"],
            group_by=["metric_time__month"],
            where=["{{ Dimension('calendar_date__is_last_quarter') }}"],
        ).records()
    months = {day(row["metric_time__month"]): row for row in answer}
    window = mart(
        world,
        "select dim_date.month_start_date, sum(monthly.net_revenue_usd) as net_revenue_usd"
        " from (select distinct month_start_date from marts.dim_date where is_last_quarter)"
        " as dim_date left join marts.mart_monthly_revenue as monthly"
        " on monthly.month_start_date = dim_date.month_start_date group by 1",
    )
    assert sorted(months) == sorted(row["month_start_date"] for row in window)
    assert len(months) == 3
    for row in window:
        assert cents(months[row["month_start_date"]]["revenue"]) == cents(row["net_revenue_usd"])


def test_month_and_year_to_date_revenue_end_on_the_marts_totals(
    world: BuiltWarehouse, layer: SemanticLayer
) -> None:
    with autocommit(world.settings, world.settings.database) as cursor:
        answer = layer.metrics(
            cursor,
            ["cumulative_revenue_mtd", "cumulative_revenue_ytd"],
            group_by=["metric_time__day"],
        ).records()
    days = {day(row["metric_time__day"]): row for row in answer}
    months = mart(
        world,
        "select (month_start_date + interval '1 month' - interval '1 day')::date as last_day,"
        " net_revenue_usd, sum(net_revenue_usd) over (partition by"
        " date_trunc('year', month_start_date) order by month_start_date) as year_to_date"
        " from marts.mart_monthly_revenue",
    )
    closed = [row for row in months if row["last_day"] in days]
    assert len(closed) >= len(months) - 1 >= 11
    for row in closed:
        got = days[row["last_day"]]
        assert cents(got["cumulative_revenue_mtd"]) == cents(row["net_revenue_usd"]), row
        assert cents(got["cumulative_revenue_ytd"]) == cents(row["year_to_date"]), row


def test_new_customers_by_country_take_the_version_valid_at_the_first_order(
    world: BuiltWarehouse, layer: SemanticLayer
) -> None:
    """The SCD2 join by validity (semantic model customer_history): every new customer counts
    once, in the country they had when they first ordered."""
    with autocommit(world.settings, world.settings.database) as cursor:
        answer = layer.metrics(cursor, ["new_customers"], group_by=["customer__country_code"])
    metrics = {row["customer__country_code"]: row["new_customers"] for row in answer.records()}
    marts = {
        row["country_code"]: row["customers"]
        for row in mart(
            world,
            "select versions.country_code, count(*) as customers"
            " from marts.mart_top_customers as customers"
            " left join marts.dim_customers as versions"
            " on customers.customer_id = versions.customer_id"
            " and customers.first_order_at >= versions.valid_from"
            " and (customers.first_order_at < versions.valid_to or versions.valid_to is null)"
            " group by versions.country_code",
        )
    }
    assert metrics == marts and len(marts) > 3


@pytest.fixture(scope="module")
def mf_project(
    built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """A copy of the dbt project with the built semantic manifest and a profile for the
    session's warehouse: where `mf` runs as an analyst runs it after `make demo`."""
    project = copy_dbt_project(tmp_path_factory.mktemp("mf") / "project")
    (project / "target").mkdir()
    shutil.copy2(built_warehouse.target_dir / SEMANTIC_MANIFEST, project / "target")
    write_profile(built_warehouse.settings, project / "profiles.yml")
    env = {name: value for name, value in os.environ.items() if name != ENV_DBT_TARGET_PATH}
    env["DBT_PROFILES_DIR"] = str(project)
    return project, env


def mf(project: tuple[Path, dict[str, str]], *args: str) -> str:
    folder, env = project
    done = subprocess.run(
        [str(Path(sys.executable).with_name("mf")), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=MF_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_mf_validate_configs_passes(mf_project: tuple[Path, dict[str, str]]) -> None:
    output = mf(mf_project, "validate-configs")
    assert "ERRORS: 0" in output and "Breaking issues" not in output


def test_mf_query_answers_revenue_by_month_and_channel(
    mf_project: tuple[Path, dict[str, str]], built_warehouse: BuiltWarehouse
) -> None:
    output = mf(
        mf_project, "query", "--metrics", "revenue", "--group-by", "metric_time__month,channel"
    )
    assert "metric_time__month" in output and "marketplace" in output
    metrics = mf(mf_project, "list", "metrics")
    assert metrics.count("\n• ") >= 12
