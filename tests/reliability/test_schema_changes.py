"""Upstream schema changes never stop a source (issue 21, class 2).

Each case changes the operations database's schema on purpose (a dropped NOT NULL, a dropped
column, a renamed one, numeric to text, a narrowed integer, a new NOT NULL column, a wider
numeric scale, a timestamp become text), runs the ingestion and compares the raw tables with
the source. Then: a load package that can never load (a trigger refusing its rows, a raw
column dropped behind dlt's back) fails a bounded number of runs while the source's other
tables load, is set aside in ``rejected_records`` and deleted; and a `shopflow run` where one
table fails still builds every model that does not depend on it, ends red, and names the
stale models in `shopflow status` and the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dlt
import pytest

from ingestion.database.connection import autocommit
from ingestion.loading.pending_packages import (
    GIVEN_UP_REASON_PREFIX,
    PARKED_FOLDER,
    pending_load_ids,
    read_attempts,
)
from ingestion.loading.registry import LoadUnit, SourceSpec
from ingestion.loading.runner import SourceRun, run_source
from ingestion.loading.runtime import make_pipeline
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.build import build_world
from ingestion.sources.ops.settings import TABLE_PRIMARY_KEYS
from tests.integration.ingest_support import IngestReport, IngestWorld, private_world
from tests.reliability.conftest import new_world, output_of
from tests.reliability.support import CliWorld

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SCALE = 0.05
CHANGED = 3
"""Rows of each table changed after its schema change."""


@dataclass(frozen=True)
class Change:
    """One schema change in the operations database and what raw must show after it."""

    name: str
    table: str
    statements: tuple[str, ...]
    compared: tuple[str, ...]
    """Source columns whose every value raw must hold after the change."""
    drift: tuple[tuple[str, str], ...]
    """(column, change) rows expected in raw_ops.schema_drift; () when none is needed."""


def first_rows(table: str, assignments: str) -> str:
    key = TABLE_PRIMARY_KEYS[table]
    return (
        f"update ops.{table} set {assignments}, updated_at = updated_at + interval '1 second'"
        f" where {key} in (select {key} from ops.{table} order by {key} limit {CHANGED})"
    )


CHANGES = (
    Change(
        "dropped NOT NULL, then nulls",
        "customers",
        (
            "alter table ops.customers alter column email drop not null",
            first_rows("customers", "email = null"),
        ),
        ("email",),
        (("email", "nullable"),),
    ),
    Change(
        "dropped column",
        "customers",
        ("alter table ops.customers drop column address",),
        ("first_name", "last_name"),
        (("address", "dropped"),),
    ),
    Change(
        "renamed column",
        "customers",
        (
            "alter table ops.customers rename column city to town",
            first_rows("customers", "town = 'Renamedville'"),
        ),
        ("town",),
        (("city", "dropped"), ("town", "added")),
    ),
    Change(
        "numeric to text",
        "order_items",
        (
            "alter table ops.order_items drop constraint order_items_unit_price_check",
            "alter table ops.order_items alter column unit_price type text",
            first_rows("order_items", "unit_price = 'n/a'"),
        ),
        ("unit_price",),
        (("unit_price", "widened"),),
    ),
    Change(
        "integer narrowed to smallint",
        "order_items",
        (
            "alter table ops.order_items alter column quantity type smallint",
            first_rows("order_items", "quantity = 7"),
        ),
        ("quantity",),
        (),
    ),
    Change(
        "new NOT NULL column",
        "orders",
        (
            "alter table ops.orders add column sales_channel text not null default 'web'",
            first_rows("orders", "sales_channel = 'phone'"),
        ),
        ("sales_channel", "status"),
        (("sales_channel", "added"),),
    ),
    Change(
        "wider numeric scale",
        "payments",
        (
            "alter table ops.payments alter column amount type numeric(14, 4)",
            first_rows("payments", "amount = amount + 0.1234"),
        ),
        ("amount",),
        (("amount", "widened"),),
    ),
    Change(
        "timestamp to text",
        "deliveries",
        (
            "alter table ops.deliveries drop constraint deliveries_check",
            "alter table ops.deliveries alter column shipped_at type text",
            first_rows("deliveries", "shipped_at = 'unknown'"),
        ),
        ("shipped_at",),
        (("shipped_at", "widened"),),
    ),
)


def ops_execute(settings: ConnectionSettings, *statements: str) -> None:
    with autocommit(settings, settings.ops_database) as cursor:
        for statement in statements:
            cursor.execute(statement)


def warehouse_execute(settings: ConnectionSettings, *statements: str) -> None:
    with autocommit(settings, settings.database) as cursor:
        for statement in statements:
            cursor.execute(statement)


def source_and_raw(world: IngestWorld, table: str, columns: tuple[str, ...]) -> tuple[list, list]:
    """The key and ``columns`` of every row, as text, in the source and in raw."""
    key = TABLE_PRIMARY_KEYS[table]
    listed = ", ".join(f"{column}::text" for column in (key, *columns))
    statement = f"select {listed} from {{}}.{table} order by {key}"
    return (
        world.query(statement.format("ops"), ops=True),
        world.query(statement.format("raw_ops")),
    )


def source_columns(world: IngestWorld, table: str) -> tuple[str, ...]:
    rows = world.query(
        "select column_name from information_schema.columns where table_schema = 'ops'"
        f" and table_name = '{table}' order by ordinal_position",
        ops=True,
    )
    return tuple(row[0] for row in rows)


@dataclass(frozen=True)
class Drifted:
    world: IngestWorld
    after_change: IngestReport
    clean: IngestReport


@pytest.fixture(scope="module")
def drifted(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Drifted]:
    """A small ops world loaded once, every change of ``CHANGES`` made, loaded again, and
    loaded a third time with nothing changed."""
    with private_world(server_settings, tmp_path_factory.mktemp("schema-changes")) as world:
        build_world(world.settings, scale=SCALE)
        assert world.ingest("ops").ok
        for change in CHANGES:
            ops_execute(world.settings, *change.statements)
        after_change = world.ingest("ops")
        yield Drifted(world, after_change, world.ingest("ops"))


@pytest.mark.parametrize("change", CHANGES, ids=[c.name for c in CHANGES])
def test_a_schema_change_lands_as_documented_drift(drifted: Drifted, change: Change) -> None:
    world = drifted.world
    source, raw = source_and_raw(world, change.table, change.compared)
    assert raw == source, f"{change.name}: raw differs from the source"
    recorded = world.query(
        f"select column_name, change from raw_ops.schema_drift where table_name = '{change.table}'"
        f" and column_name = any(array{[c for c, _ in change.drift] or ['']})"
        " order by column_name"
    )
    assert recorded == sorted(change.drift)


def test_the_run_that_meets_the_changes_loads_everything_and_rejects_nothing(
    drifted: Drifted,
) -> None:
    report = drifted.after_change
    assert report.ok, [(u.table, u.error) for u in report.units]
    assert all(u.balanced for u in report.units)
    assert sum(u.rows_rejected for u in report.units) == 0
    assert drifted.world.scalar("select count(*) from raw_ops.rejected_records") == 0


def test_dropped_and_renamed_columns_keep_their_old_values(drifted: Drifted) -> None:
    world = drifted.world
    # the old values stay, the rows loaded since hold NULL there
    address, city = world.query(
        "select count(address), count(city) from raw_ops.customers"
        " where _dlt_load_id = (select min(_dlt_load_id) from raw_ops.customers)"
    )[0]
    assert address > 0 and city > 0
    nullable = world.query(
        "select column_name from information_schema.columns where table_schema = 'raw_ops'"
        " and table_name = 'customers' and column_name in ('address', 'city', 'email', 'town')"
        " and is_nullable = 'YES' order by 1"
    )
    assert [row[0] for row in nullable] == ["address", "city", "email", "town"]


def test_a_clean_run_after_the_changes_leaves_raw_equal_to_the_source(drifted: Drifted) -> None:
    world = drifted.world
    assert drifted.clean.ok, [(u.table, u.error) for u in drifted.clean.units]
    for table in TABLE_PRIMARY_KEYS:
        columns = tuple(c for c in source_columns(world, table) if c != TABLE_PRIMARY_KEYS[table])
        source, raw = source_and_raw(world, table, columns)
        assert raw == source, f"raw_ops.{table} differs from the source"
    # status is honest: the last ingest of ops is recorded green
    assert world.query(
        "select status from audit.pipeline_runs where source = 'ops'"
        " order by started_at desc limit 1"
    ) == [("ok",)]


# -- a package that can never load ------------------------------------------------------------
PROBE_DATASET = "raw_probe"


@dlt.source(name="probe")
def probe_source(batch: int) -> Any:
    """Two small tables of plain rows: ``items`` (the one broken on purpose) and ``notes``."""

    @dlt.resource(write_disposition="append")
    def items() -> Iterator[dict[str, Any]]:
        yield from ({"id": batch * 10 + i, "label": f"item {batch}.{i}"} for i in range(4))

    @dlt.resource(write_disposition="append")
    def notes() -> Iterator[dict[str, Any]]:
        yield {"id": batch, "text": f"note {batch}"}

    return items, notes


@dataclass(frozen=True)
class Breakage:
    name: str
    breaks: tuple[str, ...]
    repairs: tuple[str, ...]
    labelled: tuple[int, ...]
    """The batches whose labels raw holds at the end (dropping the column lost batch 1's)."""


BREAKAGES = (
    Breakage(
        "a trigger refuses the rows",
        (
            "create function raw_probe.refuse() returns trigger language plpgsql as"
            " $$ begin raise exception 'items are frozen by the test'; end $$",
            "create trigger refuse before insert on raw_probe.items"
            " for each statement execute function raw_probe.refuse()",
        ),
        ("drop trigger refuse on raw_probe.items",),
        (1, 3, 4),
    ),
    Breakage(
        "a raw column dropped behind dlt's back",
        ("alter table raw_probe.items drop column label",),
        ("alter table raw_probe.items add column label varchar",),
        (3, 4),
    ),
)
ATTEMPTS = 2


@pytest.mark.parametrize("breakage", BREAKAGES, ids=[b.name for b in BREAKAGES])
def test_a_package_that_never_loads_is_set_aside_after_bounded_attempts(
    server_settings: ConnectionSettings, tmp_path: Path, breakage: Breakage
) -> None:
    with private_world(server_settings, tmp_path) as world:
        batch = [0]
        spec = SourceSpec(
            name="probe",
            dataset=PROBE_DATASET,
            loader_file_format=None,
            units=(LoadUnit("items", ("items",)), LoadUnit("notes", ("notes",))),
            build=lambda _context: probe_source(batch[0]),
        )
        context = world.context()
        context = replace(context, config=replace(context.config, package_attempts=ATTEMPTS))

        def run() -> dict[str, Any]:
            batch[0] += 1
            source_run: SourceRun = run_source(spec, context)
            return {u.table: u for u in source_run.units}

        assert all(u.status == "ok" for u in run().values())
        warehouse_execute(world.settings, *breakage.breaks)
        runs = [run() for _ in range(ATTEMPTS)]  # batches 2 and 3
        for units in runs:
            # the broken table fails; the source's other table loads all the same
            assert units["items"].status == "failed"
            assert units["notes"].status == "ok", units["notes"].error
        # batch 2's package failed ATTEMPTS runs: its 4 rows set aside with the reason, and
        # counted as rejected by the run that gave it up
        rejected = world.query(
            "select resource, reason, raw_payload from raw_probe.rejected_records order by 3"
        )
        assert len(rejected) == 4 and {r[0] for r in rejected} == {"items"}
        assert all(r[1].startswith(GIVEN_UP_REASON_PREFIX) for r in rejected)
        assert f"failed {ATTEMPTS} runs" in rejected[0][1]
        # insert-values rows keep dlt's column list and the row's SQL literals
        payloads = [json.loads(r[2]) for r in rejected]
        assert all("label" in payload["columns"] for payload in payloads)
        assert (
            sorted(f"item 2.{i}" in p["values"] for p in payloads for i in range(4)).count(True)
            == 4
        )
        assert runs[-1]["items"].rows_rejected == 4 and runs[-1]["items"].balanced
        pipeline = make_pipeline("probe", PROBE_DATASET, world.settings)
        assert [entry["attempts"] for entry in read_attempts(pipeline).values()] == [1]

        warehouse_execute(world.settings, *breakage.repairs)
        units = run()  # batch 4
        # batch 3's package (one failed run) loads once repaired, then the run's own rows
        assert units["items"].status == "ok" and units["notes"].status == "ok"
        assert not pending_load_ids(pipeline)
        assert not any((Path(pipeline.working_dir) / PARKED_FOLDER).glob("*/*"))
        assert not read_attempts(pipeline)
        ids = sorted(row[0] for row in world.query("select id from raw_probe.items"))
        labels = world.query("select label from raw_probe.items where label is not null")
        # nothing lost, nothing twice: every row is in raw or in rejected_records, once
        assert ids == [b * 10 + i for b in (1, 3, 4) for i in range(4)]
        assert sorted(row[0] for row in labels) == sorted(
            f"item {b}.{i}" for b in breakage.labelled for i in range(4)
        )
        assert world.scalar("select count(*) from raw_probe.notes") == 4


# -- one failed table, the rest of the run builds ---------------------------------------------
@pytest.fixture(scope="module")
def partial_run(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[CliWorld, str]]:
    """A world whose ``ops.customers`` was renamed upstream, then `shopflow run` on it."""
    root = tmp_path_factory.mktemp("partial-run")
    for world in new_world(server_settings, root, PARTIAL_SCALE):
        ops_execute(world.settings, "alter table ops.customers rename to customers_archived")
        done = world.run("run")
        assert done.returncode == 1, output_of(done)
        yield world, output_of(done)


PARTIAL_SCALE = "0.1"
"""Large enough for every dbt test of the models that still build to pass."""


def stages_of_last_run(world: CliWorld) -> dict[str, tuple[str, str]]:
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute(
            "select stage || coalesce(nullif(' ' || source, ' '), ''), status,"
            " coalesce(error, detail, '') from audit.pipeline_runs where command = 'run'"
        )
        return {stage: (status, text) for stage, status, text in cursor.fetchall()}


def test_one_failed_table_leaves_the_rest_of_the_run_building(
    partial_run: tuple[CliWorld, str],
) -> None:
    world, output = partial_run
    stages = stages_of_last_run(world)
    assert stages["ingest ops"][0] == "failed"
    assert "ops.customers no longer exists" in stages["ingest ops"][1]
    assert stages["ingest storefront"][0] == stages["ingest files"][0] == "ok"
    assert stages["dbt-build"][0] == "ok" and "left stale" in stages["dbt-build"][1]
    assert stages["docs"][0] == "ok"
    assert "failed at stage ingest" in output  # the run ends red
    # every model that does not read ops.customers was built; those that do were not
    manifest = json.loads((world.files / "dbt-target" / "manifest.json").read_text())
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute("select model from audit.stale_models")
        stale = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
            " where table_schema in ('staging', 'intermediate', 'marts')"
        )
        built = {row[0] for row in cursor.fetchall()}
    assert {"stg_ops__customers", "dim_customers", "snap_ops__customers"} <= stale
    assert "stg_ops__orders" not in stale
    models = {
        node["name"]: f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
        and node["config"]["materialized"] != "ephemeral"
        and node["schema"] in ("staging", "intermediate", "marts")
        and node["config"].get("enabled", True)
    }
    assert {name for name, relation in models.items() if relation in built} == (set(models) - stale)
    # the other ops tables loaded as usual: raw equals the source
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        cursor.execute("select order_id, status from ops.orders order by 1")
        source_orders = cursor.fetchall()
    with autocommit(world.settings, world.settings.database) as cursor:
        cursor.execute("select order_id, status from raw_ops.orders order by 1")
        assert cursor.fetchall() == source_orders


def test_status_is_red_and_names_the_stale_models(partial_run: tuple[CliWorld, str]) -> None:
    world, _ = partial_run
    done = world.run("status", "--json")
    assert done.returncode == 1, output_of(done)
    document = json.loads(done.stdout)
    assert not document["healthy"]
    problems = " ".join(document["problems"])
    assert "ingest ops" in problems
    assert "stale" in problems and "ops.customers failed to load" in problems
    assert "dim_customers" in {model["model"] for model in document["stale_models"]}
