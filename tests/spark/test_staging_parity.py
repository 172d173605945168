"""Staging and the customers/products models on Spark equal their Postgres builds.

On the session's warehouse (tests/pipeline's ``built_warehouse``: one pipeline run on
Postgres), the raw layer goes to a lake of this test's own and `dbt build --target spark`
builds the bottom of the DAG from it (seeds, staging, intermediate customers and products
with their parents) into a catalog of its own; every relation must then equal Postgres's by
the engine-neutral checksums of ``quality.engine_parity``. After one run the snapshots hold
one version per key, which is what the lake's change log knows too (docs/scale-out.md, "SCD2
on both engines"), so the versions models must agree exactly. After a second run (a week
later: moves, price changes, erasures) Postgres has history the lake never saw, and what both
engines know must still agree: the current versions. That test runs last (it moves the
session's warehouse on, as tests/pipeline's ``ticked_warehouse`` does).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from psycopg2 import sql
from typer.testing import Result

from ingestion.database.connection import autocommit
from ingestion.lake import export_lake
from ingestion.lake.layout import SOURCE_SCHEMAS
from ingestion.quality.engine_parity import (
    EngineChecksum,
    checksum,
    differences,
    postgres_checksums,
)
from ingestion.settings import (
    ENV_DBT_TARGET_PATH,
    ENV_HOME,
    ENV_LAKE_URL,
    SPARK_TARGET,
    ConnectionSettings,
)
from ingestion.spark.marts import spark_mart_checksums
from ingestion.spark.session import spark_session
from ingestion.transform.dbt_runner import run_dbt
from tests.pipeline.conftest import (  # noqa: F401
    BuiltWarehouse,
    built_warehouse,
    pipeline_env,
    ticked_warehouse,
)

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
SPARK_ONLY = {"stg_ops__customer_versions", "stg_storefront__product_versions"}
"""The change logs standing in for the snapshots where dbt snapshots cannot run."""


@dataclass(frozen=True)
class SparkBottom:
    staging: dict[str, EngineChecksum]
    intermediate: dict[str, EngineChecksum]
    seeds: dict[str, EngineChecksum]


def build_bottom_on_spark(settings: ConnectionSettings, folder: Path) -> Path:
    """The warehouse's raw layer to a lake in ``folder``, the selection built on Spark from
    it; returns the Spark state folder (``<SHOPFLOW_HOME>/spark``)."""
    lake, home = folder / "lake", folder / "home"
    export_lake(settings, str(lake), list(SOURCE_SCHEMAS))
    run_dbt(
        # cautious: no test of a model left out (the marts' singular tests read staging too)
        ["build", "--select", *SELECTION, "--indirect-selection", "cautious"],
        settings,
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
    built_warehouse: BuiltWarehouse,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> SparkBottom:
    state = build_bottom_on_spark(built_warehouse.settings, tmp_path_factory.mktemp("spark"))
    return SparkBottom(
        spark_mart_checksums(state, "staging"),
        spark_mart_checksums(state, "intermediate"),
        spark_mart_checksums(state, "seeds"),
    )


def test_every_staging_model_equals_postgres(
    built_warehouse: BuiltWarehouse,  # noqa: F811
    spark_bottom: SparkBottom,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings, "staging")
    on_spark = spark_bottom.staging
    assert set(on_spark) - set(on_postgres) == SPARK_ONLY
    assert len(on_postgres) >= 16, sorted(on_postgres)
    for name in ("stg_ops__orders", "stg_files__events", "stg_storefront__products"):
        assert on_postgres[name].rows > 0, name
    shared = {name: on_spark[name] for name in on_postgres}
    assert differences(on_postgres, shared) == []


def test_customers_and_products_models_equal_postgres(
    built_warehouse: BuiltWarehouse,  # noqa: F811
    spark_bottom: SparkBottom,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings, "intermediate")
    mine = {name: on_postgres[name] for name in OWN_INTERMEDIATE}
    assert all(checksum.rows > 0 for checksum in mine.values()), mine
    on_spark = {name: spark_bottom.intermediate[name] for name in OWN_INTERMEDIATE}
    assert differences(mine, on_spark) == []


def test_seeds_load_the_same_on_spark(
    built_warehouse: BuiltWarehouse,  # noqa: F811
    spark_bottom: SparkBottom,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings, "seeds")
    assert len(on_postgres) == 4, sorted(on_postgres)
    assert differences(on_postgres, spark_bottom.seeds) == []


CURRENT_VERSION_COLUMNS = {
    "int_customer_versions_windowed": (
        "customer_key",
        "customer_id",
        "first_name",
        "last_name",
        "email",
        "phone",
        "country_code",
        "city",
        "address",
        "registered_at",
        "valid_from",
        "valid_to",
        "window_end_at",
    ),
    "int_product_versions_windowed": (
        "product_key",
        "product_id",
        "sku",
        "product_title",
        "brand",
        "category",
        "currency_code",
        "list_price",
        "stock_quantity",
        "is_deleted",
        "created_at",
        "valid_from",
        "valid_to",
        "window_end_at",
    ),
}
"""What a current version is on both engines; the version number, the join window's start
and the load time depend on the history only Postgres has."""


def current_versions_on_postgres(
    settings: ConnectionSettings, table: str, columns: tuple[str, ...]
) -> tuple[EngineChecksum, int]:
    """The checksum of ``table``'s current versions, and how many versions it has in all."""
    query = sql.SQL("select {} from intermediate.{} where is_current").format(
        sql.SQL(", ").join(map(sql.Identifier, columns)), sql.Identifier(table)
    )
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(query)
        current = checksum(columns, cursor.fetchall())
        cursor.execute(
            sql.SQL("select count(*) from intermediate.{}").format(sql.Identifier(table))
        )
        (versions,) = cursor.fetchone() or (0,)
    return current, int(versions)


def _current_versions_here(state: Path, table: str, columns: tuple[str, ...]) -> EngineChecksum:
    session = spark_session(state)
    try:
        frame = session.table(f"intermediate.{table}").where("is_current").select(*columns)
        return checksum(columns, (tuple(row) for row in frame.toLocalIterator()))
    finally:
        session.stop()


def current_versions_on_spark(state: Path, table: str, columns: tuple[str, ...]) -> EngineChecksum:
    """The same on Spark, read in a process of its own (ingestion/spark/marts.py says why)."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_current_versions_here, state, table, columns).result()


def test_after_a_second_run_the_current_versions_still_agree(
    ticked_warehouse: tuple[BuiltWarehouse, Result],  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    warehouse, _ = ticked_warehouse
    state = build_bottom_on_spark(warehouse.settings, tmp_path_factory.mktemp("spark-ticked"))
    for table, columns in CURRENT_VERSION_COLUMNS.items():
        on_postgres, postgres_versions = current_versions_on_postgres(
            warehouse.settings, table, columns
        )
        on_spark = current_versions_on_spark(state, table, columns)
        # the week moved customers and prices: history the lake does not hold
        assert postgres_versions > on_postgres.rows, table
        assert differences({table: on_postgres}, {table: on_spark}) == []
