"""A load the database refuses never blocks later runs: refused rows are set aside.

Each test makes Postgres refuse some rows on purpose (text it cannot store, a NULL into a
NOT NULL column, a value of a changed type), then checks that the rest loaded, that the
refused rows are in ``rejected_records`` with the database's reason, that the run's counts
balance, and that the next run starts clean.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest

from ingestion.database.connection import autocommit
from ingestion.loading.refused_rows import REFUSED_REASON_PREFIX, csv_payload, csv_records
from ingestion.loading.registry import SOURCES
from ingestion.loading.runner import ensure_bookkeeping_tables
from ingestion.loading.runtime import make_pipeline
from ingestion.settings import OPS_CAPTURE_CDC, OPS_CAPTURE_CURSOR, ConnectionSettings
from ingestion.simulators.world.build import build_world
from ingestion.sources.ops.drift import widened_type
from tests.integration.ingest_support import IngestWorld, private_world

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


@pytest.fixture
def world(server_settings: ConnectionSettings, tmp_path: Path) -> Iterator[IngestWorld]:
    with private_world(server_settings, tmp_path) as created:
        yield created


def refused_rows(world: IngestWorld, dataset: str) -> list[tuple[str, str, str]]:
    return world.query(
        f"select resource, reason, raw_payload from {dataset}.rejected_records"
        f" where reason like '{REFUSED_REASON_PREFIX}%' order by raw_payload"
    )


@pytest.mark.parametrize(
    ("file_format", "bad_value", "refusal"),
    [
        # Postgres text cannot hold U+0000 (dlt strips it from insert-values files only)
        ("csv", "nul \x00 inside", "0x00"),
        # beyond numeric(38, 9), dlt's decimal column
        ("insert_values", Decimal("1e30"), "numeric field overflow"),
    ],
)
def test_rows_postgres_refuses_are_set_aside_and_the_rest_loads(
    world: IngestWorld, file_format: str, bad_value: object, refusal: str
) -> None:
    # the ops source's bookkeeping tables in a dataset of our own
    spec = SOURCES["ops"]
    ensure_bookkeeping_tables(world.settings, spec)
    pipeline = make_pipeline("refusals", spec.dataset, world.settings)
    good = "row" if isinstance(bad_value, str) else Decimal("1.5")
    rows = [{"id": i, "note": f"row {i}", "value": good} for i in range(1, 41)]
    rows[6]["value"] = bad_value
    rows[30]["value"] = bad_value
    data: object = pa.Table.from_pylist(rows) if file_format == "csv" else rows

    info = pipeline.run(
        data,
        table_name="notes",
        write_disposition="merge",  # through dlt's staging dataset
        primary_key="id",
        loader_file_format=file_format,
    )

    assert not info.has_failed_jobs
    assert world.query(f"select count(*), min(id), max(id) from {spec.dataset}.notes") == [
        (38, 1, 40)
    ]
    refused = refused_rows(world, spec.dataset)
    assert [r[0] for r in refused] == ["notes", "notes"]
    assert all("[22" in reason and refusal in reason for _, reason, _ in refused)
    payload_text = " ".join(r[2] for r in refused)
    assert "row 7" in payload_text and "row 31" in payload_text
    # the next load is not blocked by anything left over
    info = pipeline.run(
        [{"id": 41, "note": "fine"}], table_name="notes", loader_file_format=file_format
    )
    assert world.scalar(f"select count(*) from {spec.dataset}.notes") == 39
    assert len(info.loads_ids) == 1


def test_csv_records_keep_quoted_line_breaks_and_tell_null_from_empty() -> None:
    lines = [b'1,"two\n', b'lines",x\n', b'2,"",\n', b'3,"say ""hi""",z\n']
    records = list(csv_records(iter(lines)))
    assert records == [b'1,"two\nlines",x\n', b'2,"",\n', b'3,"say ""hi""",z\n']
    assert json.loads(csv_payload(["id", "a", "b"], records[1])) == {
        "id": "2",
        "a": "",
        "b": None,
    }
    assert json.loads(csv_payload(["id", "a", "b"], records[2]))["a"] == 'say "hi"'


def ops_execute(world: IngestWorld, *statements: str) -> None:
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        for statement in statements:
            cursor.execute(statement)


REFUSED_AND_GOOD_CHANGES = (
    "update ops.customers set email = 'no-at-sign', updated_at = now()"
    " where customer_id in (select customer_id from ops.customers order by 1 limit 2)",
    "update ops.customers set first_name = 'Renamed', updated_at = now()"
    " where customer_id = (select max(customer_id) from ops.customers)",
)
"""Two e-mails raw's constraint refuses, and a good change of the same table."""


def add_a_constraint_only_raw_has(world: IngestWorld) -> None:
    with autocommit(world.settings, world.settings.database) as cursor:
        for schema in ("raw_ops", "raw_ops_staging"):  # the merge copies into staging first
            cursor.execute(
                f"alter table {schema}.customers add constraint email_has_at"
                " check (email like '%@%')"
            )


@pytest.mark.slow
def test_ops_rows_raw_refuses_are_set_aside_and_a_changed_type_lands_as_drift(
    world: IngestWorld,
) -> None:
    """Read by cursor: its counts are per changed row. From the log, a changed column type
    makes the run read that table whole again (the next test), so the counts differ."""
    build_world(world.settings, scale=0.05)
    assert world.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR).ok
    customers_before = world.table_digest("raw_ops.customers")
    # a constraint only raw has (a dropped NOT NULL is drift now: the NULLs land, see
    # schema_changes/test_drift.py), and a column whose type changed (int -> numeric)
    add_a_constraint_only_raw_has(world)
    ops_execute(
        world,
        *REFUSED_AND_GOOD_CHANGES,
        "alter table ops.order_items alter column quantity type numeric(10, 2)",
        "update ops.order_items set quantity = quantity + 0.5, updated_at = now()"
        " where order_item_id in (select order_item_id from ops.order_items order by 1 limit 3)",
    )
    report = world.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR)

    assert report.ok, report.units
    units = {u.table: u for u in report.units}
    assert (units["customers"].rows_loaded, units["customers"].rows_rejected) == (1, 2)
    assert all(u.balanced for u in report.units)
    refused = refused_rows(world, "raw_ops")
    assert [resource for resource, _, _ in refused] == ["customers", "customers"]
    assert all("[23514]" in reason and "email_has_at" in reason for _, reason, _ in refused)
    assert all(json.loads(payload)["email"] == "no-at-sign" for _, _, payload in refused)
    # the changed type lands as drift: the raw column is widened, every row loads
    assert (units["order_items"].rows_loaded, units["order_items"].rows_rejected) == (3, 0)
    assert world.query(
        "select table_name, column_name, raw_type, source_type, widened_to"
        " from raw_ops.schema_drift"
    ) == [("order_items", "quantity", "bigint", "numeric(10,2)", "numeric(10,2)")]
    assert (
        world.scalar("select count(*) from raw_ops.order_items where quantity <> round(quantity)")
        == 3
    )
    # the good change of the same run landed; the refused rows kept their last good version
    assert (
        world.scalar("select first_name from raw_ops.customers order by customer_id desc limit 1")
        == "Renamed"
    )
    assert world.scalar("select count(*) from raw_ops.customers where email = 'no-at-sign'") == 0
    assert world.table_digest("raw_ops.customers") != customers_before

    # the next run starts clean: other changes load, nothing is retried
    ops_execute(
        world,
        "update ops.orders set status = 'cancelled', updated_at = now()"
        " where order_id = (select min(order_id) from ops.orders)",
    )
    report = world.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR)
    assert report.ok, report.units
    assert {u.table: u.rows_loaded for u in report.units}["orders"] == 1
    assert len(refused_rows(world, "raw_ops")) == 2
    assert world.scalar("select count(*) from raw_ops.schema_drift") == 1


def test_ops_rows_raw_refuses_from_the_log_are_set_aside_and_a_changed_type_rereads(
    world: IngestWorld,
) -> None:
    """Read from the log: rows raw refuses are set aside as by cursor, and a column whose type
    changed upstream makes the run read that table whole again, widened as drift."""
    build_world(world.settings, scale=0.05)
    assert world.ingest("ops", ops_capture=OPS_CAPTURE_CDC).ok
    add_a_constraint_only_raw_has(world)
    ops_execute(world, *REFUSED_AND_GOOD_CHANGES)
    report = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
    assert report.ok, report.units
    units = {u.table: u for u in report.units}
    assert (units["customers"].rows_loaded, units["customers"].rows_rejected) == (1, 2)
    assert all(u.balanced for u in report.units)
    assert [resource for resource, _, _ in refused_rows(world, "raw_ops")] == ["customers"] * 2

    ops_execute(
        world,
        "alter table ops.order_items alter column quantity type numeric(10, 2)",
        "update ops.order_items set quantity = quantity + 0.5, updated_at = now()"
        " where order_item_id in (select order_item_id from ops.order_items order by 1 limit 3)",
    )
    report = world.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
    assert report.ok, report.units
    units = {u.table: u for u in report.units}
    # only the retyped table is read whole again, and no slot is replaced
    assert units["order_items"].rows_loaded == world.scalar(
        "select count(*) from ops.order_items", ops=True
    )
    assert units["customers"].rows_loaded == units["orders"].rows_loaded == 0
    assert world.scalar("select resyncs from raw_ops._cdc_position") == 0
    assert (
        world.scalar("select count(*) from raw_ops.order_items where quantity <> round(quantity)")
        == 3
    )
    assert world.scalar("select count(*) from raw_ops.order_items") == world.scalar(
        "select count(*) from ops.order_items", ops=True
    )


@pytest.mark.parametrize(
    ("raw", "source", "widened"),
    [
        ("bigint", "numeric(10,2)", "numeric(10,2)"),
        ("integer", "double precision", "numeric"),
        ("bigint", "integer", None),
        ("integer", "bigint", "bigint"),
        ("numeric", "integer", None),
        ("numeric(38,9)", "text", "text"),
        ("bigint", "text", "text"),
        ("boolean", "integer", "text"),
        ("text", "bigint", None),
        ("timestamp with time zone", "timestamp without time zone", None),
        ("timestamp with time zone", "date", "text"),
    ],
)
def test_a_raw_column_is_widened_only_when_it_cannot_hold_the_new_type(
    raw: str, source: str, widened: str | None
) -> None:
    assert widened_type(raw, source) == widened
