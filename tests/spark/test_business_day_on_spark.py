"""A Spark build for a past business day moves the same windows as the Postgres build for that
day: the business date reaches dbt on both engines in its environment (issue 22).

On the session's warehouse (``built_warehouse``): the raw layer goes to a lake of this test's
own and ``spark_build`` builds the whole project from it with settings whose business date
lies before the data's latest activity; on Postgres the business clock and dim_date are built
for the same day (then put back). dim_date, every window of which is relative to business
today, must be the same on both engines and differ from the latest day's; the singular test
that business today is that day passes on Spark. Slow (a JVM, a whole build): `make
test-spark`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from ingestion.lake import export_lake
from ingestion.lake.layout import SOURCE_SCHEMAS
from ingestion.settings import DEFAULT_TARGET, Settings
from ingestion.spark.build import spark_build
from ingestion.spark.marts import spark_mart_checksums
from ingestion.spark.parity import EngineChecksum, differences, postgres_checksums
from ingestion.transform.dbt_runner import run_dbt
from ingestion.transform.run_results import RunResults
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.integration]

DAYS_BACK = 45
"""Far enough back that every window (7 and 30 days, month, quarter) moves."""
CLOCK_TEST = "assert_business_today_is_the_latest_activity_in_the_facts"
BUSINESS_TODAY = "select date_day from marts.dim_date where is_business_today"


@dataclass(frozen=True)
class PastDay:
    day: date
    postgres_today: list[tuple[object, ...]]
    latest_dim_date: EngineChecksum
    postgres_dim_date: EngineChecksum
    spark_dim_date: EngineChecksum
    spark_results: RunResults


def build_the_clock_on_postgres(warehouse: BuiltWarehouse, config: Settings) -> None:
    """The business clock and dim_date on Postgres for the settings' business date (none: the
    latest activity), which ``run_dbt`` hands dbt as the production build's."""
    selected = ["int_business_clock", "dim_date", CLOCK_TEST]
    run_dbt(
        ["build", "-s", *selected],
        warehouse.settings,
        config,
        stream=False,
        target=DEFAULT_TARGET,
    )


@pytest.fixture(scope="module")
def past_day(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> PastDay:
    (latest,) = built_warehouse.query(BUSINESS_TODAY)[0]
    day = latest - timedelta(days=DAYS_BACK)
    config = dataclasses.replace(Settings.from_environment(), business_date=day)
    folder = tmp_path_factory.mktemp("spark-past-day")
    on_spark = dataclasses.replace(config, state_dir=folder / "home", lake_url=str(folder / "lake"))
    export_lake(
        built_warehouse.settings, on_spark.lake_url, list(SOURCE_SCHEMAS), run_id="spark-past-day"
    )
    results = spark_build(built_warehouse.settings, on_spark)
    spark_dim_date = spark_mart_checksums(on_spark.spark_dir)["dim_date"]
    latest_dim_date = postgres_checksums(built_warehouse.settings)["dim_date"]
    try:
        build_the_clock_on_postgres(built_warehouse, config)
        postgres_today = built_warehouse.query(BUSINESS_TODAY)
        postgres_dim_date = postgres_checksums(built_warehouse.settings)["dim_date"]
    finally:
        build_the_clock_on_postgres(
            built_warehouse, dataclasses.replace(config, business_date=None)
        )
    assert built_warehouse.query(BUSINESS_TODAY) == [(latest,)], "the clock was not put back"
    return PastDay(day, postgres_today, latest_dim_date, postgres_dim_date, spark_dim_date, results)


def test_the_spark_build_for_a_past_day_passes_its_clock_test(past_day: PastDay) -> None:
    results = past_day.spark_results
    assert not results.failed, results.failure_sentence()
    clock_tests = [node for node in results.nodes if node.unique_id.endswith(f".{CLOCK_TEST}")]
    assert [node.status for node in clock_tests] == ["pass"]


def test_both_engines_move_the_same_windows_for_a_past_day(past_day: PastDay) -> None:
    assert past_day.postgres_today == [(past_day.day,)]
    assert (
        differences({"dim_date": past_day.postgres_dim_date}, {"dim_date": past_day.spark_dim_date})
        == []
    )
    # the past day moved the windows: Spark did not answer for the latest day
    assert (
        differences({"dim_date": past_day.latest_dim_date}, {"dim_date": past_day.spark_dim_date})
        != []
    )
