"""Reading what dbt built on Spark from Python: the marts' engine-neutral checksums
(``spark.parity``), computed in a process of their own.

A fresh process each time, because a JVM keeps the first session's catalog for its whole
life (a second ``getOrCreate`` with another state folder would read the first one's tables)
and embedded Derby admits one JVM at a time: the reader's JVM must be gone before dbt starts
Spark again.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ingestion.spark.mart_checksums import MARTS_SCHEMA
from ingestion.spark.parity import EXCLUDED_COLUMNS, EngineChecksum, spark_checksums
from ingestion.spark.session import spark_session


def _checksums_here(
    state: Path, schema: str, exclude: tuple[str, ...]
) -> dict[str, EngineChecksum]:
    session = spark_session(state)
    try:
        return spark_checksums(session, schema, exclude)
    finally:
        session.stop()


def spark_mart_checksums(
    state: Path, schema: str = MARTS_SCHEMA, exclude: tuple[str, ...] = EXCLUDED_COLUMNS
) -> dict[str, EngineChecksum]:
    """The checksum of every relation in ``schema`` of the Spark catalog under ``state``
    (``<SHOPFLOW_HOME>/spark``), read in a new process that ends before this returns."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_checksums_here, state, schema, exclude).result()
