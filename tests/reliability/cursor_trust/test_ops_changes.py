"""Cursors that cannot be fooled (issue 21, class 1): every change of the order system lands.

One small world goes through the faults a stamp-trusting cursor loses: a row stamped in the
future (which used to stop its table for good), changes stamped before the last load (by a
little and by days), a row deleted, ingested as a hard delete and restored with its old stamp,
a row whose stamp goes backwards on update, a change without a new stamp, a row given exactly
the cursor's stamp. The faults are written into the operations DB with SQL, then:

1. one ingestion with the range reconciliation off shows what the clamped cursor and its
   overlap catch alone (and that the others are really missed: the test can fail);
2. one ingestion with the reconciliation on repairs the rest and names what it repaired;
3. a simulated tick writes a day of later changes, which must all land despite the
   future-stamped row; the raw copy is then compared with a clean first load of the same
   operations DB into a fresh warehouse;
4. one more ingestion with nothing changed loads nothing (the overlap reloads no row).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ingestion.database.connection import autocommit, create_database, drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import REPO_ROOT, ConnectionSettings
from ingestion.sources.ops.settings import TABLE_PRIMARY_KEYS
from tests.reliability.references import new_world, output_of
from tests.reliability.support import PER_RUN_COLUMNS, CliWorld, shopflow_command, warehouse_digest

pytestmark = pytest.mark.reliability


CURSOR_READER = {"SHOPFLOW_OPS_CAPTURE": "cursor"}
"""These faults fool a poller: the module reads the operations DB by cursor (the log reader,
the default, is proven against the same faults by the last test)."""
LOG_READER = {"SHOPFLOW_OPS_CAPTURE": "cdc"}
CURSOR_ONLY = {"SOURCES__OPS__RECONCILE_EVERY_RUNS": "0"}
"""The first ingestion after the faults runs without the range reconciliation."""
COMPARED = PER_RUN_COLUMNS | {"_deleted_in_source"}
"""A clean first load has no tombstone column: it is left out of the comparison."""


@dataclass(frozen=True)
class Fault:
    """One row of the order system changed so that a stamp-trusting cursor misses it."""

    name: str
    table: str
    change: str
    """SQL run on the operations DB; ``{key}`` is the chosen row's key, ``{clock}`` the
    business clock, ``{cursor}`` the newest stamp of the table as last loaded."""
    column: str
    """The column the change touches, compared between source and raw."""
    caught_by: str
    """``cursor`` (the clamped cursor and its overlap alone) or ``reconciliation``."""
    offset: int = 0
    """Which row of the table (by key order) the fault takes, so faults do not share rows."""


FAULTS = (
    Fault(
        "future stamp (named)",
        "orders",
        "update ops.orders set channel = 'store', updated_at = {clock} + interval '30 days'"
        " where order_id = {key}",
        "channel",
        "cursor",
    ),
    Fault(
        "change stamped days before the last load (named)",
        "payments",
        "update ops.payments set method = 'late-commit', updated_at = {cursor} - interval '3 days'"
        " where payment_id = {key}",
        "method",
        "reconciliation",
    ),
    Fault(
        "deleted, ingested as a hard delete, restored with its old stamp (named)",
        "deliveries",
        "insert into ops.deliveries select * from sim.deleted_delivery",
        "carrier",
        "reconciliation",
    ),
    Fault(
        "late commit stamped inside the overlap",
        "customers",
        "update ops.customers set city = 'Lateville', updated_at = {cursor} - interval '1 minute'"
        " where customer_id = {key}",
        "city",
        "cursor",
    ),
    Fault(
        "stamp goes backwards on update",
        "order_items",
        "update ops.order_items set quantity = quantity + 1,"
        " updated_at = updated_at - interval '10 days' where order_item_id = {key}",
        "quantity",
        "reconciliation",
    ),
    Fault(
        "change without a new stamp",
        "customers",
        "update ops.customers set phone = '+00 000 000' where customer_id = {key}",
        "phone",
        "reconciliation",
        offset=1,
    ),
    Fault(
        "change given exactly the cursor's stamp",
        "orders",
        "update ops.orders set channel = 'app', updated_at = {cursor} where order_id = {key}",
        "channel",
        "cursor",
        offset=1,
    ),
)


@dataclass
class Trial:
    """What the module's world went through, observed after each step."""

    world: CliWorld
    keys: dict[str, int] = field(default_factory=dict)
    after_cursor_only: dict[str, bool] = field(default_factory=dict)
    after_reconciliation: dict[str, bool] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    raw_after_tick: dict[str, tuple[int, str]] = field(default_factory=dict)
    clean_after_tick: dict[str, tuple[int, str]] = field(default_factory=dict)
    details: list[str] = field(default_factory=list)
    deleted_in_raw: bool = False


def ingest_ops(world: CliWorld, **extra_env: str) -> str:
    done = subprocess.run(
        shopflow_command("ingest", "ops"),
        env={**world.env, **CURSOR_READER, **extra_env},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, output_of(done)
    return output_of(done)


def ops_sql(world: CliWorld, statement: str) -> list[tuple]:
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        cursor.execute(statement)
        return cursor.fetchall() if cursor.description else []


def row_of(world: CliWorld, fault: Fault, key: int, raw: bool) -> tuple | None:
    """The fault's row (its column and stamp) in the source or in raw."""
    schema = "raw_ops" if raw else "ops"
    database = world.settings.database if raw else world.settings.ops_database
    with autocommit(world.settings, database) as cursor:
        cursor.execute(
            f"select {fault.column}::text, updated_at from {schema}.{fault.table}"
            f" where {TABLE_PRIMARY_KEYS[fault.table]} = %s",
            (key,),
        )
        return cursor.fetchone()


def landed(world: CliWorld, fault: Fault, key: int) -> bool:
    source = row_of(world, fault, key, raw=False)
    return source is not None and source == row_of(world, fault, key, raw=True)


def chosen_key(world: CliWorld, fault: Fault) -> int:
    key = TABLE_PRIMARY_KEYS[fault.table]
    rows = ops_sql(
        world, f"select {key} from ops.{fault.table} order by {key} offset {5 + fault.offset}"
    )
    return int(rows[0][0])


def apply_faults(world: CliWorld, trial: Trial, **reader: str) -> None:
    """Delete one delivery and ingest (a hard delete), then write every fault."""
    delivery = next(f for f in FAULTS if f.table == "deliveries")
    trial.keys[delivery.name] = chosen_key(world, delivery)
    clock = "(select business_time from sim.clock)"
    cursors = {
        table: ops_sql(world, f"select max(updated_at)::text from ops.{table}")[0][0]
        for table in TABLE_PRIMARY_KEYS
    }
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        cursor.execute(
            "create table sim.deleted_delivery as select * from ops.deliveries"
            " where delivery_id = %s",
            (trial.keys[delivery.name],),
        )
        cursor.execute(
            "delete from ops.deliveries where delivery_id = %s", (trial.keys[delivery.name],)
        )
    trial.outputs["hard delete"] = ingest_ops(world, **reader)
    trial.deleted_in_raw = row_of(world, delivery, trial.keys[delivery.name], raw=True) is None
    with autocommit(world.settings, world.settings.ops_database) as cursor:
        for fault in FAULTS:
            if fault.table != "deliveries":
                trial.keys[fault.name] = chosen_key(world, fault)
            cursor.execute(
                fault.change.format(
                    key=trial.keys[fault.name],
                    clock=clock,
                    cursor=f"'{cursors[fault.table]}'::timestamptz",
                )
            )


def clean_load(world: CliWorld, root: Path) -> dict[str, tuple[int, str]]:
    """raw_ops after a first load of the same operations DB into a fresh warehouse."""
    settings = world.settings.with_databases(
        f"{world.settings.database}_clean", world.settings.ops_database
    )
    create_database(settings, settings.database)
    try:
        ingest_ops(CliWorld(settings, root))
        return ops_tables(warehouse_digest(settings, ("raw_ops",), COMPARED))
    finally:
        drop_database(settings, settings.database)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)


def ops_tables(digest: dict[str, tuple[int, str]]) -> dict[str, tuple[int, str]]:
    return {
        name: value for name, value in digest.items() if name.split(".")[1] in TABLE_PRIMARY_KEYS
    }


@pytest.fixture(scope="module")
def trial(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Trial]:
    root = tmp_path_factory.mktemp("cursor-trust")
    for world in new_world(server_settings, root):
        trial = Trial(world)
        trial.outputs["first load"] = ingest_ops(world)
        apply_faults(world, trial)
        trial.outputs["cursor only"] = ingest_ops(world, **CURSOR_ONLY)
        trial.after_cursor_only = {f.name: landed(world, f, trial.keys[f.name]) for f in FAULTS}
        trial.outputs["reconciliation"] = ingest_ops(world)
        trial.after_reconciliation = {f.name: landed(world, f, trial.keys[f.name]) for f in FAULTS}
        ticked = world.run("simulate", "tick")
        assert ticked.returncode == 0, output_of(ticked)
        trial.outputs["after tick"] = ingest_ops(world)
        trial.raw_after_tick = ops_tables(warehouse_digest(world.settings, ("raw_ops",), COMPARED))
        trial.clean_after_tick = clean_load(world, root / "clean")
        trial.outputs["nothing changed"] = ingest_ops(world)
        with autocommit(world.settings, world.settings.database) as cursor:
            cursor.execute(
                "select coalesce(detail, '') from audit.pipeline_runs"
                " where stage = 'ingest' and source = 'ops' order by started_at"
            )
            trial.details = [row[0] for row in cursor.fetchall()]
        yield trial


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_each_missed_change_lands(trial: Trial, fault: Fault) -> None:
    """The cursor alone catches what it should, the reconciliation the rest: raw = source."""
    assert trial.deleted_in_raw, "the hard delete did not reach raw before the restore"
    assert trial.after_cursor_only[fault.name] is (fault.caught_by == "cursor"), (
        f"after the cursor-only run: {trial.after_cursor_only}"
    )
    assert trial.after_reconciliation[fault.name], trial.after_reconciliation


def test_future_stamp_is_flagged_and_hides_nothing(trial: Trial) -> None:
    """The future-stamped order loads, is named, and a day of later changes all land."""
    assert "stamped after the source's clock" in trial.outputs["cursor only"]
    assert trial.raw_after_tick == trial.clean_after_tick


def test_reconciliation_names_what_it_repaired(trial: Trial) -> None:
    """The run's output names each table repaired, and `shopflow status` can read it."""
    output = trial.outputs["reconciliation"]
    for fault in FAULTS:
        named = f"ops.{fault.table}: " in output and "the cursor missed repaired" in output
        assert named or fault.caught_by == "cursor", output
    # audit.pipeline_runs, ingest stage, in run order: first load, hard delete, cursor only,
    # reconciliation, after the tick, nothing changed
    repaired = [
        f"{table}: 1 row(s) the cursor missed, repaired"
        for table in ("customers", "order_items", "payments", "deliveries")
    ]
    assert trial.details == [
        "",
        "",
        "orders: 1 row(s) stamped after the source's clock, flagged",
        "; ".join(repaired),
        "",
        "",
    ]


def loaded_rows(output: str) -> dict[str, int]:
    """The summary table's rows loaded per ops table."""
    rows: dict[str, int] = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.replace("┃", "│").split("│")]
        cells = [cell for cell in cells if cell]
        if len(cells) >= 4 and cells[0] == "ops" and cells[1] in TABLE_PRIMARY_KEYS:
            rows[cells[1]] = int(cells[3].replace(",", ""))
    return rows


def test_overlap_reloads_nothing(trial: Trial) -> None:
    """With nothing changed, a run loads no row although it reads the overlap again."""
    after_tick = loaded_rows(trial.outputs["after tick"])
    assert set(after_tick) == set(TABLE_PRIMARY_KEYS) and sum(after_tick.values()) > 0
    assert loaded_rows(trial.outputs["nothing changed"]) == dict.fromkeys(TABLE_PRIMARY_KEYS, 0)
    assert "repaired" not in trial.outputs["nothing changed"]


def test_the_log_reader_lands_every_one_of_these_changes_in_one_run(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Read from its log, the order system fools nothing: no stamp is trusted, so every fault
    lands on the first run after it, with nothing flagged or repaired, and raw equals a clean
    first load of the same operations DB."""
    root = tmp_path_factory.mktemp("log-reader")
    for world in new_world(server_settings, root):
        logged = Trial(world)
        ingest_ops(world, **LOG_READER)
        apply_faults(world, logged, **LOG_READER)
        output = ingest_ops(world, **LOG_READER)
        missed = [f.name for f in FAULTS if not landed(world, f, logged.keys[f.name])]
        assert missed == [], output
        assert "stamped after" not in output and "repaired" not in output, output
        raw = ops_tables(warehouse_digest(world.settings, ("raw_ops",), COMPARED))
        assert raw == clean_load(world, root / "clean")
