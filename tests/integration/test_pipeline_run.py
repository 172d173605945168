"""`shopflow run` end to end on a throwaway warehouse: every stage passes, dbt's objects exist."""

from __future__ import annotations

import psycopg2
import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.settings import ConnectionSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_run_builds_and_documents_the_warehouse(warehouse_env: ConnectionSettings) -> None:
    result = CliRunner().invoke(app, ["run"])

    assert result.exit_code == 0, result.output
    assert "dbt build" in result.output and "failed" not in result.output
    with psycopg2.connect(warehouse_env.warehouse_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*), min(date_day), max(date_day) from marts.dim_date")
        count, first, last = cur.fetchone()
    assert count == (last - first).days + 1
    assert str(first) == "2024-01-01"
