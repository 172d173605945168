"""One failed table, the rest of the run builds (issue 21, class 2): a `shopflow run` where one
table fails still builds every model that does not depend on it, ends red, and names the
stale models in `shopflow status` and the report.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings
from tests.reliability.references import new_world, output_of
from tests.reliability.schema_changes.statements import ops_execute
from tests.reliability.support import CliWorld

pytestmark = [pytest.mark.reliability, pytest.mark.integration]


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
    assert {"stg_ops__customers", "dim_customers", "stg_ops__customer_versions"} <= stale
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
