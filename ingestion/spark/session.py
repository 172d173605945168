"""The local Spark session: where its state lives and the configuration dbt-spark's `session`
method starts it with (the `spark` output of profiles.example.yml), so that a Python reader
opens the same catalog and sees the tables dbt built.

The catalog is a Derby metastore under ``<SHOPFLOW_HOME>/spark``: embedded Derby admits one
JVM at a time, so a reader opens it only while no dbt run on Spark is going on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MASTER = "local[2]"
DRIVER_MEMORY = "2g"
SHUFFLE_PARTITIONS = "4"
"""Spark's default of 200 shuffle partitions makes 200 tiny tasks per join on this data."""


def warehouse_dir(state: Path) -> Path:
    """Where Spark writes the Parquet files of the tables dbt builds (spark.sql.warehouse.dir)."""
    return state / "warehouse"


def metastore_dir(state: Path) -> Path:
    """The Derby database holding the catalog (schemas, tables, views and their locations)."""
    return state / "metastore_db"


def spark_conf(state: Path) -> dict[str, str]:
    """The session's configuration, as the profile's ``server_side_parameters`` spell it, for
    the state folder ``state`` (``Settings.spark_dir``: ``<SHOPFLOW_HOME>/spark``)."""
    return {
        "spark.master": MASTER,
        "spark.driver.memory": DRIVER_MEMORY,
        "spark.sql.shuffle.partitions": SHUFFLE_PARTITIONS,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(warehouse_dir(state)),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={metastore_dir(state)};create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home={state}",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # list a table's partition folders in the driver: a Spark job per listing costs
        # seconds on a few hundred local day folders
        "spark.sql.sources.parallelPartitionDiscovery.threshold": "1024",
        # dbt-spark forces ANSI mode off on every session it opens; a reader must agree
        "spark.sql.ansi.enabled": "false",
    }


def spark_session(state: Path) -> SparkSession:
    """A Spark session on the catalog dbt builds into (Hive support, the same metastore and
    warehouse folder), e.g. for the parity test to read the marts. pyspark is imported here,
    so the package imports without the `spark` extra."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("shopflow").enableHiveSupport()
    for key, value in spark_conf(state).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
