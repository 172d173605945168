"""Quality metrics (audit_data_quality) and `shopflow status` on the session's built warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg2.extensions
import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.cli.status import PIPED_STATUS_WIDTH
from ingestion.database.connection import connect
from ingestion.monitoring.status import read_status
from ingestion.settings import ENV_DATABASE
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RAW_TABLES = {
    ("ops", "customers"): "raw_ops.customers",
    ("ops", "orders"): "raw_ops.orders",
    ("ops", "order_items"): "raw_ops.order_items",
    ("ops", "payments"): "raw_ops.payments",
    ("ops", "deliveries"): "raw_ops.deliveries",
    ("storefront", "products"): "raw_storefront.products",
    ("storefront", "sales"): "raw_storefront.sales",
    ("files", "events"): "raw_files.events",
    ("files", "marketing_spend"): "raw_files.marketing_spend",
}


@pytest.fixture
def rolled_back(built_warehouse: BuiltWarehouse) -> Iterator[psycopg2.extensions.cursor]:
    """A cursor in a transaction that is rolled back: raw data can be spoiled for one test."""
    connection = connect(built_warehouse.settings)
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.rollback()
        connection.close()


def load_rows(
    cursor: psycopg2.extensions.cursor, query: str = "select * from audit.audit_load_quality"
) -> dict[tuple[str, str], tuple[int, int, int]]:
    cursor.execute(
        "select source_name, table_name, sum(rows_loaded), sum(rows_rejected), "
        f"sum(rows_invalid) from ({query}) as metrics group by 1, 2"
    )
    return {(s, t): (loaded, rejected, invalid) for s, t, loaded, rejected, invalid in cursor}


def test_rows_loaded_match_the_raw_tables(built_warehouse: BuiltWarehouse) -> None:
    metrics = {
        (source, table): (loaded, loads)
        for source, table, loaded, loads in built_warehouse.query(
            "select source_name, table_name, sum(rows_loaded), count(*) "
            "from audit.audit_data_quality where record_type = 'load' group by 1, 2"
        )
    }
    assert set(metrics) == set(RAW_TABLES)
    for key, raw_table in RAW_TABLES.items():
        raw_rows, raw_loads = built_warehouse.query(
            f"select count(distinct _dlt_id), count(distinct _dlt_load_id) from {raw_table}"
        )[0]
        assert metrics[key] == (raw_rows, raw_loads), key


def test_rejects_and_invalid_rows_are_counted_per_load(
    built_warehouse: BuiltWarehouse, rolled_back: psycopg2.extensions.cursor
) -> None:
    """audit_load_quality's query counts a rejected row and rows staging flags invalid.

    The model is a table built once per run, so its compiled query is run inside the
    rolled-back transaction, after one rejected record is added and two staged orders are
    flagged invalid there.
    """
    compiled = next(built_warehouse.target_dir.rglob("compiled/**/audit_load_quality.sql"))
    query = compiled.read_text()
    before = load_rows(rolled_back, query)
    assert before == load_rows(rolled_back), "the table holds what its query computes"
    assert before[("ops", "orders")][1:] == (0, 0)
    rolled_back.execute("select min(_dlt_load_id) from raw_ops.orders")
    load_id = rolled_back.fetchone()[0]
    rolled_back.execute(
        "insert into raw_ops.rejected_records (resource, reason, raw_payload, load_id, "
        "rejected_at, _dlt_load_id, _dlt_id) values ('orders', 'order_id is missing', '{}', "
        "%s, now(), %s, 'test-reject')",
        (load_id, load_id),
    )
    rolled_back.execute(
        "update staging.stg_ops__orders set is_valid = false, invalid_reason = 'unknown status' "
        "where order_id in (select order_id from staging.stg_ops__orders order by order_id "
        "limit 2)"
    )
    after = load_rows(rolled_back, query)
    assert after[("ops", "orders")] == (before[("ops", "orders")][0], 1, 2)
    assert after[("ops", "customers")] == before[("ops", "customers")]


def test_the_last_builds_test_outcomes_are_listed(built_warehouse: BuiltWarehouse) -> None:
    manifest = json.loads((built_warehouse.target_dir / "manifest.json").read_text())
    # the whole-history tests are left out of `shopflow run` (ingestion.stage_runner.pipeline)
    tests = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test"
        and "whole_history" not in node["tags"]
        # tests of models built only on Spark are parsed, disabled, on Postgres
        and node["config"].get("enabled", True)
    }
    unit_tests = {node["name"] for node in manifest.get("unit_tests", {}).values()}
    rows = built_warehouse.query(
        "select test_name, test_type, test_status from audit.audit_data_quality "
        "where record_type = 'test'"
    )
    assert {name for name, kind, _ in rows if kind == "test"} == tests
    assert {name for name, kind, _ in rows if kind == "unit_test"} == unit_tests
    assert len(rows) == len(tests) + len(unit_tests), "one row per test of one build"
    assert {status for _, _, status in rows} <= {"pass", "warn"}


def test_status_reads_metrics_tests_and_runs(built_warehouse: BuiltWarehouse) -> None:
    status = read_status(built_warehouse.settings, last_runs=1)
    assert {(row.source, row.table) for row in status.tables} == set(RAW_TABLES)
    assert sum(status.test_counts().values()) == len(status.tests) > 100
    assert status.runs and len({run.run_id for run in status.runs}) == 1
    history = read_status(built_warehouse.settings, last_runs=50).runs
    assert {run.source for run in history if run.stage == "ingest"} >= {
        "ops",
        "storefront",
        "files",
    }


def test_status_command_prints_the_tables(built_warehouse: BuiltWarehouse) -> None:
    result = CliRunner().invoke(app, ["status"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (  # the verdict first
        "GREEN: the last run passed, every test passes, every source is fresh"
    )
    run_id = built_warehouse.scalar("select max(run_id) from audit.pipeline_runs")
    for expected in ("marketing_spend", "order_items", "Tests of the last production", run_id):
        assert expected in result.output
    too_wide = [line for line in result.output.splitlines() if len(line) > PIPED_STATUS_WIDTH]
    assert too_wide == [], "piped, every line fits 100 columns"


def test_status_command_says_when_the_warehouse_is_not_built(
    built_warehouse: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    # the operations database exists but holds no warehouse; the other one does not exist
    for database in (built_warehouse.settings.ops_database, "shopflow_never_built"):
        monkeypatch.setenv(ENV_DATABASE, database)
        result = runner.invoke(app, ["status"])
        assert result.exit_code == 1
        assert "has not been built yet" in result.output
        assert "shopflow run" in result.output
