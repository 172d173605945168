"""Staging and the customers/products models on Spark equal their Postgres builds.

On the session's warehouse (tests/pipeline's ``built_warehouse``: one pipeline run on
Postgres), the raw layer goes to a lake of this test's own and `dbt build --target spark`
builds the bottom of the DAG from it (seeds, staging, intermediate customers and products
with their parents) into a catalog of its own; every relation must then equal Postgres's by
the engine-neutral checksums of ``spark.parity``. The lake carries the customers' change log
(erased on Postgres), from which both engines build the customer versions, and the history
the Postgres product snapshot recorded (docs/scale-out.md, "SCD2 on both engines"), so the
versions models are equal after one run and, history included, after a second one (a week
later: moves, price changes, erasures). That test runs last (it moves the session's warehouse on,
as tests/conftest.py's ``ticked_warehouse`` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import Result

from ingestion.lake import export_lake
from ingestion.lake.layout import SOURCE_SCHEMAS
from ingestion.settings import (
    ENV_DBT_TARGET_PATH,
    ENV_HOME,
    ENV_LAKE_URL,
    SPARK_TARGET,
    ConnectionSettings,
    Settings,
)
from ingestion.spark.marts import spark_mart_checksums
from ingestion.spark.parity import (
    EngineChecksum,
    differences,
    postgres_checksums,
)
from ingestion.transform.dbt_runner import run_dbt
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.integration]

SELECTION = (
    "resource_type:seed",
    "staging",
    "intermediate.customers",
    "intermediate.products",
    "+int_customer_orders_summarised",
)
OWN_INTERMEDIATE = (
    "int_customer_orders_summarised",
    "int_customer_versions_windowed",
    "int_product_content_summarised",
    "int_product_versions_windowed",
)
SPARK_ONLY = {"stg_storefront__product_versions"}
"""The projection of the exported product snapshot, where dbt snapshots cannot run."""
VERSIONS = {
    "int_customer_versions_windowed": "customer_id",
    "int_product_versions_windowed": "product_id",
}
"""The versions models and their business keys."""


@dataclass(frozen=True)
class SparkBottom:
    staging: dict[str, EngineChecksum]
    intermediate: dict[str, EngineChecksum]
    seeds: dict[str, EngineChecksum]


def build_bottom_on_spark(settings: ConnectionSettings, folder: Path) -> Path:
    """The warehouse's raw layer to a lake in ``folder``, the selection built on Spark from
    it; returns the Spark state folder (``<SHOPFLOW_HOME>/spark``)."""
    lake, home = folder / "lake", folder / "home"
    export_lake(settings, str(lake), list(SOURCE_SCHEMAS), run_id="spark-parity")
    run_dbt(
        # cautious: no test of a model left out (the marts' singular tests read staging too)
        ["build", "--select", *SELECTION, "--indirect-selection", "cautious"],
        settings,
        Settings.from_environment(),
        stream=False,
        extra_env={
            ENV_HOME: str(home),
            ENV_LAKE_URL: str(lake),
            ENV_DBT_TARGET_PATH: str(folder / "dbt-target"),
        },
        target=SPARK_TARGET,
    )
    return home / "spark"


@pytest.fixture(scope="module")
def spark_bottom(
    built_warehouse: BuiltWarehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> SparkBottom:
    state = build_bottom_on_spark(built_warehouse.settings, tmp_path_factory.mktemp("spark"))
    return SparkBottom(
        spark_mart_checksums(state, "staging"),
        spark_mart_checksums(state, "intermediate"),
        spark_mart_checksums(state, "seeds"),
    )


def test_every_staging_model_equals_postgres(
    built_warehouse: BuiltWarehouse,
    spark_bottom: SparkBottom,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings, "staging")
    on_spark = spark_bottom.staging
    assert set(on_spark) - set(on_postgres) == SPARK_ONLY
    assert len(on_postgres) >= 16, sorted(on_postgres)
    for name in (
        "stg_ops__orders",
        "stg_files__events",
        "stg_storefront__products",
        "stg_ops__customer_versions",  # built from the change log on both engines
    ):
        assert on_postgres[name].rows > 0, name
    shared = {name: on_spark[name] for name in on_postgres}
    assert differences(on_postgres, shared) == []


def test_customers_and_products_models_equal_postgres(
    built_warehouse: BuiltWarehouse,
    spark_bottom: SparkBottom,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings, "intermediate")
    mine = {name: on_postgres[name] for name in OWN_INTERMEDIATE}
    assert all(checksum.rows > 0 for checksum in mine.values()), mine
    on_spark = {name: spark_bottom.intermediate[name] for name in OWN_INTERMEDIATE}
    assert differences(mine, on_spark) == []


def test_seeds_load_the_same_on_spark(
    built_warehouse: BuiltWarehouse,
    spark_bottom: SparkBottom,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings, "seeds")
    assert len(on_postgres) == 4, sorted(on_postgres)
    assert differences(on_postgres, spark_bottom.seeds) == []


def test_after_a_second_run_the_versions_models_are_equal_history_included(
    ticked_warehouse: tuple[BuiltWarehouse, Result],
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    warehouse, _ = ticked_warehouse
    state = build_bottom_on_spark(warehouse.settings, tmp_path_factory.mktemp("spark-ticked"))
    on_postgres = postgres_checksums(warehouse.settings, "intermediate")
    on_spark = spark_mart_checksums(state, "intermediate")
    for table, key in VERSIONS.items():
        # the week moved customers and prices: closed versions both engines must hold
        versions, keys = warehouse.query(
            f"select count(*), count(distinct {key}) from intermediate.{table}"
        )[0]
        assert versions > keys > 0, table
    erased = warehouse.scalar(
        "select count(*) from intermediate.int_customer_versions_windowed where is_erased"
    )
    assert erased, "the week erased no customer: the test proves less than it says"
    assert (
        differences(
            {name: on_postgres[name] for name in VERSIONS},
            {name: on_spark[name] for name in VERSIONS},
        )
        == []
    )
