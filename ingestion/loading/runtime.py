"""dlt's runtime set-up: fast loader settings, where pipeline state lives, the destination.

Everything dlt keeps locally (pipeline working folders, schemas, state) lives under
``<state dir>/dlt/<warehouse database>/``: git-ignored, and separate per warehouse database
so throwaway test databases never share state with the demo. dlt also stores each
pipeline's state in the warehouse (``<dataset>._dlt_pipeline_state``) and restores it from
there when the local folder is gone.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dlt
from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.loading.destination import warehouse
from ingestion.settings import ConnectionSettings, state_dir

log = logging.getLogger(__name__)

DLT_RUNTIME_DEFAULTS: dict[str, str] = {
    # plain csv files for Postgres COPY: no gzip on the way through
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    # rotate extract files so a large source never builds one huge file in memory
    "DATA_WRITER__BUFFER_MAX_ITEMS": "100000",
    "DATA_WRITER__FILE_MAX_ITEMS": "500000",
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    # no UNIQUE constraint on _dlt_id: its index tripled the events merge time; uniqueness of
    # the business keys is what dbt tests, and dlt's merge keeps primary keys unique
    "DESTINATION__POSTGRES__CREATE_INDEXES": "false",
    # Arrow tables get dlt's _dlt_load_id and _dlt_id columns too (the raw-layer contract)
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID": "true",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
}
"""Set unless the environment already says otherwise (environment variables always win)."""


def configure_dlt_runtime() -> None:
    """Apply ``DLT_RUNTIME_DEFAULTS`` to the environment, leaving explicit settings alone."""
    for name, value in DLT_RUNTIME_DEFAULTS.items():
        os.environ.setdefault(name, value)


def pipelines_dir(settings: ConnectionSettings) -> Path:
    """dlt's local working folder for pipelines loading into this warehouse database."""
    return state_dir() / "dlt" / settings.database


def refresh_pipelines_dir(settings: ConnectionSettings) -> Path:
    """dlt's working folder for full refreshes, which load into a shadow dataset first."""
    return pipelines_dir(settings) / ".refresh"


def pipeline_name(source: str) -> str:
    """The dlt pipeline name of one source."""
    return f"shopflow_{source}"


def shadow_dataset(dataset_name: str) -> str:
    """The dataset a full refresh of ``dataset_name`` loads into before it is swapped in."""
    return f"{dataset_name}{REFRESH_SUFFIX}"


REFRESH_SUFFIX = "_refresh"
"""A single underscore: dlt normalises dataset names, and would turn "__" into "_"."""

REDIRECTING_SETTING = re.compile(
    r"^(?:PIPELINES__(?:[A-Z0-9_]+__)?)?"
    r"(DEV_MODE|FULL_REFRESH|REFRESH|DATASET_NAME_LAYOUT|USE_SINGLE_DATASET|RESTORE_FROM_DESTINATION)$"
)
"""dlt pipeline settings that, read from the environment, would send a load elsewhere: a
timestamped dev dataset, a dropped source, a prefixed or per-schema dataset, a lost state."""


@contextmanager
def _ignoring_redirecting_environment() -> Iterator[None]:
    """Hide the ``REDIRECTING_SETTING`` variables from dlt while it resolves a pipeline."""
    hidden = {name: value for name, value in os.environ.items() if REDIRECTING_SETTING.match(name)}
    for name in hidden:
        log.warning(
            "ignoring %s=%s from the environment: shopflow always loads into raw_<source> "
            "(use `shopflow ingest --full-refresh` to reload a source)",
            name,
            hidden[name],
        )
        del os.environ[name]
    try:
        yield
    finally:
        os.environ.update(hidden)


def make_pipeline(source: str, dataset_name: str, settings: ConnectionSettings) -> dlt.Pipeline:
    """The dlt pipeline that loads ``source`` into ``dataset_name`` of the warehouse.

    Never dev mode, whatever the environment says (dlt would load into a timestamped dataset
    and wipe the working folder). A shadow dataset of a full refresh gets its own working
    folder, so the source's regular state is untouched until the swap.
    """
    configure_dlt_runtime()
    folder = (
        refresh_pipelines_dir(settings)
        if dataset_name.endswith(REFRESH_SUFFIX)
        else pipelines_dir(settings)
    )
    with _ignoring_redirecting_environment():
        pipeline = dlt.pipeline(
            pipeline_name=pipeline_name(source),
            pipelines_dir=str(folder),
            # dlt's postgres; ``insert-only`` merges as plain INSERTs (see ``destination``)
            destination=warehouse(credentials=settings.warehouse_url, destination_name="postgres"),
            dataset_name=dataset_name,
            dev_mode=False,
        )
    if pipeline.dev_mode or pipeline.dataset_name != dataset_name or pipeline.refresh:
        raise RuntimeError(
            f"dlt configuration redirects pipeline {pipeline.pipeline_name} to dataset "
            f"{pipeline.dataset_name!r} (dev mode {pipeline.dev_mode}, refresh "
            f"{pipeline.refresh}) instead of {dataset_name!r}: check .dlt/config.toml"
        )
    return pipeline


def drop_datasets(settings: ConnectionSettings, *dataset_names: str) -> None:
    """Drop datasets and the ``_staging`` datasets dlt uses beside them for merges.

    ``cascade`` also drops dbt views built on their tables; the next ``dbt build``
    recreates them.
    """
    with autocommit(settings, settings.database) as cursor:
        for name in dataset_names:
            for schema in (name, f"{name}_staging"):
                cursor.execute(
                    sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema))
                )
