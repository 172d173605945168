"""A full refresh replaces a source's raw tables only once the reload succeeded.

Fault: `--full-refresh` used to drop ``raw_<source>`` and its dlt state first and then load;
a reload failing midway left the raw tables dropped or half-filled. Now the reload goes to
``raw_<source>_refresh`` and is swapped in only on success (``ingestion.loading.refresh``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import dlt
import psycopg2
import pytest
from dlt.extract.source import DltSource

from ingestion.database.connection import autocommit
from ingestion.loading.refresh import refresh_source
from ingestion.loading.registry import SOURCES, IngestContext, SourceReader
from ingestion.loading.runner import ingest, run_source
from ingestion.loading.runtime import pipeline_name, pipelines_dir, refresh_pipelines_dir
from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import IngestWorld, fresh_run_id, simulated_world
from tests.reliability.support import warehouse_digest

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

OPS = SOURCES["ops"]
DEPENDENT_VIEW = "public.customers_seen_by_dbt"
"""Stands in for a dbt staging view on a raw table: a drop with cascade takes it along."""


@pytest.fixture
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    """A private world (seed 42, scale 0.1) whose ops source was ingested once."""
    with simulated_world(server_settings, tmp_path_factory.mktemp("refresh")) as created:
        report = created.ingest("ops")
        assert report.ok, report.units
        execute(created, f"create view {DEPENDENT_VIEW} as select * from raw_ops.customers")
        yield created


def execute(world: IngestWorld, statement: str, ops: bool = False) -> None:
    database = world.settings.ops_database if ops else world.settings.database
    with autocommit(world.settings, database) as cursor:
        cursor.execute(statement)


def raw_ops_tables(world: IngestWorld) -> list[str]:
    """Every table of raw_ops, dlt's own included."""
    rows = world.query(
        "select 'raw_ops.' || table_name from information_schema.tables"
        " where table_schema = 'raw_ops' and table_type = 'BASE TABLE' order by 1"
    )
    return [row[0] for row in rows]


def exact_state(world: IngestWorld) -> dict[str, tuple[int, str]]:
    """Every raw_ops table's digest over all its columns, dlt's load and row ids included."""
    return {table: world.table_digest(table) for table in raw_ops_tables(world)}


def schemas(world: IngestWorld, like: str) -> list[str]:
    rows = world.query(f"select nspname from pg_namespace where nspname like '{like}' order by 1")
    return [row[0] for row in rows]


def local_state(world: IngestWorld) -> dict[str, object]:
    path = pipelines_dir(world.settings) / pipeline_name("ops") / "state.json"
    return dict(json.loads(path.read_text()))


def test_a_full_refresh_failing_midway_leaves_the_raw_tables_exactly_as_they_were(
    world: IngestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = exact_state(world)
    state_before = local_state(world)
    schemas_before = schemas(world, "raw\\_%")

    # reading payments (the fourth of five tables) fails: the other tables reload fine, loaded
    # one by one or together (then again one by one), whichever reader the environment chooses
    # (the log's initial copy, or the cursors)
    def payments_unreadable(row: object) -> object:
        raise psycopg2.OperationalError("the operations database went away reading payments")

    @contextmanager
    def ops_db_gone_at_the_fourth_table(
        context: IngestContext, pipeline: dlt.Pipeline
    ) -> Iterator[SourceReader]:
        with OPS.open_reader(context, pipeline) as reader:

            def build() -> DltSource:
                source = reader.build()
                source.resources["payments"].add_map(payments_unreadable)
                return source

            yield replace(reader, build=build)

    # through `shopflow ingest --full-refresh`'s own entry point
    monkeypatch.setitem(SOURCES, "ops", replace(OPS, reader=ops_db_gone_at_the_fourth_table))
    run = ingest(["ops"], world.context(), run_id=fresh_run_id(), full_refresh=True).sources[0]

    statuses = {unit.table: unit.status for unit in run.units}
    assert statuses["payments"] == "failed"
    assert statuses["customers"] == statuses["orders"] == "discarded", run.units
    assert all("raw_ops kept as it was" in (unit.error or "") for unit in run.units)
    assert sum(unit.rows_loaded for unit in run.units) == 0  # nothing claimed as loaded
    assert exact_state(world) == before
    assert local_state(world) == state_before
    assert schemas(world, "raw\\_%") == schemas_before  # the shadow is gone
    assert not (refresh_pipelines_dir(world.settings) / pipeline_name("ops")).exists()
    assert world.scalar(f"select count(*) from {DEPENDENT_VIEW}") == before["raw_ops.customers"][0]

    # the source carries on incrementally as if the refresh had never been tried
    after = world.ingest("ops")
    assert after.ok, after.units
    assert sum(unit.rows_loaded for unit in after.units) == 0


def test_a_successful_full_refresh_equals_a_clean_run_and_incremental_loads_carry_on(
    world: IngestWorld,
) -> None:
    clean = warehouse_digest(world.settings, ["raw_ops"])
    # the raw layer went wrong (the reason one reaches for a full refresh): rows lost
    execute(world, "delete from raw_ops.orders where order_id % 3 = 0")
    assert warehouse_digest(world.settings, ["raw_ops"]) != clean

    run = refresh_source(OPS, world.context(), run_source)

    assert run.status == "ok", run.units
    assert warehouse_digest(world.settings, ["raw_ops"]) == clean
    assert schemas(world, "raw\\_ops%") == ["raw_ops"]  # no shadow, no old copy, no staging
    # dlt's state came along with the data, under the regular dataset name
    assert local_state(world)["dataset_name"] == "raw_ops"
    # the dependent view went with the old schema (cascade); dbt build recreates it
    assert (
        world.scalar(f"select count(*) from pg_views where viewname = '{DEPENDENT_VIEW[7:]}'") == 0
    )

    nothing_new = world.ingest("ops")
    assert nothing_new.ok, nothing_new.units
    assert sum(unit.rows_loaded for unit in nothing_new.units) == 0

    execute(world, "update ops.customers set updated_at = now() where customer_id = 1", ops=True)
    one_change = world.ingest("ops")
    loaded = {unit.table: unit.rows_loaded for unit in one_change.units}
    assert loaded == {"customers": 1, "orders": 0, "order_items": 0, "payments": 0, "deliveries": 0}


def test_an_interrupted_refresh_leaves_nothing_in_the_way_of_the_next(world: IngestWorld) -> None:
    before = exact_state(world)
    # what a refresh killed before its swap leaves: a half-filled shadow and its folder
    execute(world, "create schema raw_ops_refresh")
    execute(world, "create table raw_ops_refresh.customers (customer_id bigint)")
    leftover = refresh_pipelines_dir(world.settings) / pipeline_name("ops")
    leftover.mkdir(parents=True)
    (leftover / "state.json").write_text("{}")
    assert exact_state(world) == before  # the regular tables never saw any of it

    run = refresh_source(OPS, world.context(), run_source)

    assert run.status == "ok", run.units
    assert schemas(world, "raw\\_ops%") == ["raw_ops"]
    assert world.scalar("select count(*) from raw_ops.customers") == before["raw_ops.customers"][0]


def test_a_full_refresh_keeps_every_change_the_change_log_recorded(world: IngestWorld) -> None:
    for city in ("Lyon", "Nantes"):  # two moves, each seen by a run
        execute(
            world,
            f"update ops.customers set city = '{city}', updated_at = now() where customer_id = 2",
            ops=True,
        )
        assert world.ingest("ops").ok
    history = "select city from raw_ops.customers_changes where customer_id = 2 order by 1"
    before = world.query(history)
    assert ("Lyon",) in before and ("Nantes",) in before

    run = refresh_source(OPS, world.context(), run_source)

    assert run.status == "ok", run.units
    after = world.query(history)
    assert set(before) <= set(after)  # the reload copied only the last state; the rest came over
    ids = "select count(*), count(distinct _change_id) from raw_ops.customers_changes"
    assert len(set(world.query(ids)[0])) == 1  # nothing carried over twice
