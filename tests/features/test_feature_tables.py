"""The feature tables once the clock has moved: the session's pipeline ran, the sources moved on
a week (the simulator erases a customer or more in it) and the pipeline ran again, building the
feature tables incrementally. Every row then equals a full rebuild from the same data, and the
erased customers have no row. The leakage rule itself is proven by the dbt tests every build
runs (the unit test and `assert_features_use_nothing_after_their_as_of_time`), which
tests/pipeline/test_proof_of_catch shows fail on a leaking model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import Result

from ingestion.settings import Settings
from ingestion.transform.dbt_runner import run_dbt
from ingestion.transform.slim_ci import production_state_dir
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FEATURE_TABLES = ("feat_customer_daily", "feat_product_daily")
PREFIX = "featcheck"
RUN_METADATA = "dbt_built_at"


@pytest.fixture(scope="module")
def rebuilt(
    ticked_warehouse: tuple[BuiltWarehouse, Result], tmp_path_factory: pytest.TempPathFactory
) -> BuiltWarehouse:
    """The feature tables rebuilt in full into `featcheck_features`, from the same (deferred)
    intermediate models the incremental build read."""
    warehouse, _ = ticked_warehouse
    target = tmp_path_factory.mktemp("feature-full-refresh")
    run_dbt(
        [
            *("build", "--select", *FEATURE_TABLES, "--full-refresh", "--defer"),
            *("--state", str(production_state_dir(warehouse.settings))),
            *("--vars", json.dumps({"dbt_results_schema": f"{PREFIX}_audit"})),
            *("--target-path", str(Path(target) / "target")),
        ],
        warehouse.settings,
        Settings.from_environment(),
        stream=False,
        extra_env={"SHOPFLOW_SCHEMA_PREFIX": PREFIX, "DBT_LOG_PATH": str(target / "logs")},
    )
    return warehouse


def compared_columns(warehouse: BuiltWarehouse, table: str) -> str:
    columns = warehouse.query(
        "select column_name from information_schema.columns where table_schema = 'features' "
        f"and table_name = '{table}' and column_name <> '{RUN_METADATA}' order by ordinal_position"
    )
    return ", ".join(name for (name,) in columns)


@pytest.mark.parametrize("table", FEATURE_TABLES)
def test_the_incremental_tables_equal_a_full_rebuild(rebuilt: BuiltWarehouse, table: str) -> None:
    columns = compared_columns(rebuilt, table)
    incremental = f"select {columns} from features.{table}"
    full = f"select {columns} from {PREFIX}_features.{table}"
    only_incremental = rebuilt.scalar(f"select count(*) from ({incremental} except all {full}) d")
    only_full = rebuilt.scalar(f"select count(*) from ({full} except all {incremental}) d")
    total = rebuilt.scalar(f"select count(*) from features.{table}")
    assert total, f"{table} is empty"
    assert (only_incremental, only_full) == (0, 0), (
        f"{table}: {only_incremental} rows only in the incremental build, {only_full} only in "
        "the full rebuild"
    )


def test_erased_customers_have_no_feature_rows(
    ticked_warehouse: tuple[BuiltWarehouse, Result],
) -> None:
    warehouse, _ = ticked_warehouse
    erased = warehouse.query(
        "select distinct customer_id from intermediate.int_customer_versions_windowed "
        "where is_erased"
    )
    assert erased, "the tick erased no customer: the test proves nothing"
    left = warehouse.scalar(
        "select count(*) from features.feat_customer_daily where customer_id in "
        "(select customer_id from intermediate.int_customer_versions_windowed where is_erased)"
    )
    assert left == 0
