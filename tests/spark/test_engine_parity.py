"""The same dbt project on Spark and on Postgres gives the same marts (issue 15's parity).

On the session's warehouse (the pipeline run once on Postgres, tests/pipeline's
``built_warehouse``): the raw layer goes to a lake of this test's own, `dbt build --target
spark` builds the whole project from it into a Spark catalog of this test's own, and every
mart must equal the Postgres mart: the same relations, row counts and engine-neutral checksums
of all columns but ``dbt_built_at`` (``spark.parity``: money to the cent, timestamps in
UTC). Slow (a JVM and a whole build): `make test-spark`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ingestion.lake import export_lake
from ingestion.lake.layout import SOURCE_SCHEMAS
from ingestion.settings import ENV_HOME, ENV_LAKE_URL, Settings
from ingestion.spark.build import spark_build
from ingestion.spark.marts import spark_mart_checksums
from ingestion.spark.parity import EngineChecksum, differences, postgres_checksums
from ingestion.transform.run_results import RunResults
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.integration]


@dataclass(frozen=True)
class SparkBuild:
    results: RunResults
    checksums: dict[str, EngineChecksum]


@pytest.fixture(scope="module")
def spark_build_of_the_warehouse(
    built_warehouse: BuiltWarehouse,
    tmp_path_factory: pytest.TempPathFactory,
) -> SparkBuild:
    folder = tmp_path_factory.mktemp("spark")
    lake, state = folder / "lake", folder / "home"
    export_lake(built_warehouse.settings, str(lake), list(SOURCE_SCHEMAS), run_id="spark-parity")
    results = spark_build(
        built_warehouse.settings,
        Settings.from_environment(),
        extra_env={ENV_HOME: str(state), ENV_LAKE_URL: str(lake)},
    )
    return SparkBuild(results, spark_mart_checksums(state / "spark"))


def test_the_whole_project_builds_on_spark(spark_build_of_the_warehouse: SparkBuild) -> None:
    results = spark_build_of_the_warehouse.results
    assert not results.failed, results.failure_sentence()
    built = [node for node in results.nodes if node.unique_id.startswith("model.")]
    assert len(built) >= 40, len(built)


def test_every_mart_equals_the_postgres_mart(
    built_warehouse: BuiltWarehouse,
    spark_build_of_the_warehouse: SparkBuild,
) -> None:
    on_postgres = postgres_checksums(built_warehouse.settings)
    on_spark = spark_build_of_the_warehouse.checksums
    assert len(on_postgres) >= 20, sorted(on_postgres)
    assert all(checksum.rows > 0 for checksum in on_postgres.values()), on_postgres
    assert differences(on_postgres, on_spark) == []
