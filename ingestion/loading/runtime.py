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
import shutil
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


def pipeline_name(source: str) -> str:
    """The dlt pipeline name of one source."""
    return f"shopflow_{source}"


def make_pipeline(source: str, dataset_name: str, settings: ConnectionSettings) -> dlt.Pipeline:
    """The dlt pipeline that loads ``source`` into ``dataset_name`` of the warehouse."""
    configure_dlt_runtime()
    return dlt.pipeline(
        pipeline_name=pipeline_name(source),
        pipelines_dir=str(pipelines_dir(settings)),
        # dlt's postgres; ``insert-only`` merges as plain INSERTs (see ``destination``)
        destination=warehouse(credentials=settings.warehouse_url, destination_name="postgres"),
        dataset_name=dataset_name,
    )


def reset_source(source: str, dataset_name: str, settings: ConnectionSettings) -> None:
    """Forget everything loaded from ``source``: the raw schema (with dlt's state tables in it)
    and the local pipeline folder. The next run is a first run: a full load.

    ``cascade`` also drops dbt views built on the raw tables; the next ``dbt build``
    recreates them.
    """
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(dataset_name))
        )
        # the staging dataset dlt uses for merges
        cursor.execute(
            sql.SQL("drop schema if exists {} cascade").format(
                sql.Identifier(f"{dataset_name}_staging")
            )
        )
    folder = pipelines_dir(settings) / pipeline_name(source)
    if folder.exists():
        shutil.rmtree(folder)
    log.info("reset %s: dropped %s and %s", source, dataset_name, folder)
