"""Removing a warehouse whole: its two databases on the server (the warehouse and the
operations database, with the replication slots that read them) and the local state kept for
it (dlt's working folder, the production dbt manifest). For throwaway worlds: `shopflow db
drop`, the benchmarks' and the tests' worlds."""

from __future__ import annotations

import shutil

from ingestion.database.connection import drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ConnectionSettings
from ingestion.transform.slim_ci import production_state_dir


def drop_warehouse(settings: ConnectionSettings) -> None:
    """Drop both databases ``settings`` names (absent ones are fine) and their local state."""
    drop_database(settings, settings.database)
    drop_database(settings, settings.ops_database)
    for leftover in (pipelines_dir(settings), production_state_dir(settings)):
        shutil.rmtree(leftover, ignore_errors=True)
