"""The two ways of reading the operations database agree, row by row, with it and each other.

One operations database (scale 1) is read into two warehouses: one from its log (``cdc``),
one by its ``updated_at`` cursors (``cursor``). After the initial load and after each of five
ticks (new orders, status changes, customer moves, erasures: hard deletes), both raw copies
equal the source tables, column by column, and each other, down to the column types.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ingestion.database.connection import create_database, drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import OPS_CAPTURE_CDC, OPS_CAPTURE_CURSOR, ConnectionSettings
from ingestion.simulators.world.tick import tick
from ingestion.sources.ops.settings import TABLE_PRIMARY_KEYS
from tests.integration.ingest_support import IngestWorld, simulated_world

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TICKS = 5
SCALE = 1.0


@pytest.fixture(scope="module")
def worlds(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[IngestWorld, IngestWorld]]:
    """The log-read world, and a second warehouse reading the same operations DB by cursor."""
    root = tmp_path_factory.mktemp("capture_parity")
    with simulated_world(server_settings, root, scale=SCALE) as logged:
        polled_settings = replace(logged.settings, database=f"{logged.settings.database}_cursor")
        create_database(polled_settings, polled_settings.database)
        try:
            yield logged, IngestWorld(polled_settings, logged.landing)
        finally:
            drop_database(polled_settings, polled_settings.database)
            shutil.rmtree(pipelines_dir(polled_settings), ignore_errors=True)


def source_columns(world: IngestWorld, table: str) -> list[str]:
    rows = world.query(
        "select column_name from information_schema.columns where table_schema = 'ops'"
        f" and table_name = '{table}' order by ordinal_position",
        ops=True,
    )
    return [row[0] for row in rows]


def rows_as_text(world: IngestWorld, schema: str, table: str, columns: list[str]) -> list[tuple]:
    """Every row of ``schema.table`` (the source's columns, as text), ordered by key; both
    databases are on one server, so timestamps read in the same time zone."""
    listed = ", ".join(f't."{c}"::text' for c in columns)
    key = TABLE_PRIMARY_KEYS[table]
    return world.query(
        f"select {listed} from {schema}.{table} as t order by t.{key}", ops=schema == "ops"
    )


def raw_types(world: IngestWorld, table: str, columns: list[str]) -> list[tuple]:
    return world.query(
        "select column_name, data_type, numeric_precision, numeric_scale, is_nullable"
        " from information_schema.columns where table_schema = 'raw_ops'"
        f" and table_name = '{table}' and column_name = any(array{columns!r})"
        " order by column_name"
    )


def assert_both_equal_the_source(logged: IngestWorld, polled: IngestWorld) -> None:
    for table in TABLE_PRIMARY_KEYS:
        columns = source_columns(logged, table)
        source = rows_as_text(logged, "ops", table, columns)
        from_log = rows_as_text(logged, "raw_ops", table, columns)
        from_cursor = rows_as_text(polled, "raw_ops", table, columns)
        assert from_log == source, f"{table}: the log-read copy differs from the source"
        assert from_cursor == source, f"{table}: the cursor-read copy differs from the source"
        assert raw_types(logged, table, columns) == raw_types(polled, table, columns), table


def test_log_and_cursor_copies_equal_the_source_after_every_tick(
    worlds: tuple[IngestWorld, IngestWorld],
) -> None:
    logged, polled = worlds
    deleted = 0
    for round_number in range(TICKS + 1):
        if round_number:
            tick(logged.settings, days=2, landing=logged.landing)
        by_log = logged.ingest("ops", ops_capture=OPS_CAPTURE_CDC)
        by_cursor = polled.ingest("ops", ops_capture=OPS_CAPTURE_CURSOR)
        assert by_log.ok and by_cursor.ok, (by_log.units, by_cursor.units)
        assert all(unit.balanced for unit in by_log.units), by_log.units
        deleted += sum(unit.rows_deleted for unit in by_log.units)
        assert_both_equal_the_source(logged, polled)
    assert deleted > 0, "the ticks erased no customer: the deletes went untested"
    slots = logged.scalar(
        "select count(*) from pg_replication_slots where slot_name like 'shopflow\\_%'"
        f" and database = '{logged.settings.ops_database}'",
        ops=True,
    )
    assert slots == 1, "one slot per warehouse, and the cursor-read warehouse keeps none"
