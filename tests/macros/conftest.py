"""The proof projects build in a database of their own: the generic tests fail on purpose,
and their results (stored by the on-run-end hook in `audit.dbt_results`) must never mix with
the session warehouse's, which the pipeline tests read for failures."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ingestion.database.connection import create_database, drop_database
from ingestion.settings import ConnectionSettings


@pytest.fixture(scope="module")
def proof_warehouse(server_settings: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """A throwaway database for one proof module, dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    settings = server_settings.with_databases(
        f"shopflow_proof_{suffix}", server_settings.ops_database
    )
    create_database(settings, settings.database)
    yield settings
    drop_database(settings, settings.database)
