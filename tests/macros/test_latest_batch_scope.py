"""A data test scoped with `where: "__latest_batch__"` checks exactly the model's last batch.

The project's `get_where_subquery` (macros/incremental/) turns that placeholder into "the rows
with the model's newest `dbt_built_at`". Such a scope is only allowed for row-level properties,
and only because this test proves it still catches a bad new row. A small dbt project is
written to a temporary folder (with a copy of the repo's `macros/`): an incremental model fed
one seed per batch, and two `not_null` tests on `amount`, one scoped to the latest batch and
one on the whole table. The model is built three times:

1. batch 1 (first build, rows 1-2, all good): both tests pass;
2. batch 2 (incremental, row 3 with a null amount): the scoped test fails on that one row;
3. batch 3 (incremental, row 4, good): the scoped test passes while the whole-table test still
   fails on row 3, so the scope is the last batch and nothing more.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings, Settings
from ingestion.transform.dbt_runner import run_dbt
from tests.macros.proof_projects import (
    dbt_with_failing_tests,
    own_target,
    proof_project_yml,
    write_proof_project,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PROJECT_NAME = "latest_batch_proof"
SCHEMA = "latest_batch_proof"
SCOPED_TEST = "not_null_latest_batch"
WHOLE_TABLE_TEST = "not_null_whole_table"

DBT_PROJECT_YML = proof_project_yml(
    PROJECT_NAME,
    "vars:\n  batch: 1\n"
    f"seeds:\n  {PROJECT_NAME}:\n    +schema: {SCHEMA}\n"
    "    +column_types: {row_id: integer, amount: numeric}\n"
    f"models:\n  {PROJECT_NAME}:\n    +schema: {SCHEMA}\n",
)

# Batch 2's row 3 has an empty amount: a null, the bad new row.
SEEDS: dict[str, str] = {
    "batch_1": "row_id,amount\n1,10\n2,20\n",
    "batch_2": "row_id,amount\n3,\n",
    "batch_3": "row_id,amount\n4,40\n",
}

BATCHED_SQL = """\
{{ config(materialized="incremental", unique_key="row_id", incremental_strategy="delete+insert") }}
select
    cast(row_id as integer) as row_id,
    cast(amount as numeric) as amount,
    {{ built_at() }} as dbt_built_at
from {{ ref("batch_" ~ var("batch")) }}
"""

PROPERTIES_YML = f"""\
version: 2

models:
  - name: batched
    columns:
      - name: amount
        data_tests:
          - not_null:
              name: {SCOPED_TEST}
              config: {{where: "__latest_batch__"}}
          - not_null:
              name: {WHOLE_TABLE_TEST}
"""


@dataclass(frozen=True)
class BatchRun:
    """One incremental build of `batched`: its tests' outcomes and the table it left."""

    statuses: dict[str, str]
    failures: dict[str, int | None]
    latest_batch_row_ids: set[int]
    all_row_ids: set[int]


def write_project(root: Path) -> Path:
    files = {
        "dbt_project.yml": DBT_PROJECT_YML,
        "models/batched.sql": BATCHED_SQL,
        "models/batched.yml": PROPERTIES_YML,
    }
    files.update({f"seeds/{name}.csv": rows for name, rows in SEEDS.items()})
    return write_proof_project(root, PROJECT_NAME, files)


def build_batch(project: Path, warehouse: ConnectionSettings, batch: int) -> BatchRun:
    """`dbt build` the model and its tests on one batch; read the outcomes and the table."""
    args = ["build", "--select", "batched+", "--vars", f"{{batch: {batch}}}"]
    run_results_path = dbt_with_failing_tests(args, project, warehouse)
    results = json.loads(run_results_path.read_text())["results"]
    by_name = {result["unique_id"].split(".")[2]: result for result in results}
    model = by_name["batched"]
    assert model["status"] == "success", f"batch {batch}: {model['message']}"
    with autocommit(warehouse, warehouse.database) as cur:
        cur.execute(
            f"select row_id, dbt_built_at = max(dbt_built_at) over () from {SCHEMA}.batched"
        )
        rows = cur.fetchall()
    tests = (SCOPED_TEST, WHOLE_TABLE_TEST)
    return BatchRun(
        statuses={name: by_name[name]["status"] for name in tests},
        failures={name: by_name[name]["failures"] for name in tests},
        latest_batch_row_ids={row_id for row_id, is_latest in rows if is_latest},
        all_row_ids={row_id for row_id, _ in rows},
    )


@pytest.fixture(scope="module")
def batch_runs(
    proof_warehouse: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> dict[int, BatchRun]:
    """Seed once, then build the incremental model on batches 1, 2 and 3 in turn."""
    project = write_project(tmp_path_factory.mktemp("latest-batch"))
    run_dbt(
        ["seed"],
        proof_warehouse,
        Settings.from_environment(),
        project_dir=project,
        stream=False,
        extra_env=own_target(project),
    )
    return {batch: build_batch(project, proof_warehouse, batch) for batch in (1, 2, 3)}


def test_first_build_is_one_batch_and_passes(batch_runs: dict[int, BatchRun]) -> None:
    run = batch_runs[1]
    assert run.latest_batch_row_ids == run.all_row_ids == {1, 2}
    assert run.statuses == {SCOPED_TEST: "pass", WHOLE_TABLE_TEST: "pass"}


def test_scoped_test_fails_on_one_bad_new_row(batch_runs: dict[int, BatchRun]) -> None:
    run = batch_runs[2]
    assert run.latest_batch_row_ids == {3}
    assert run.statuses == {SCOPED_TEST: "fail", WHOLE_TABLE_TEST: "fail"}
    assert run.failures == {SCOPED_TEST: 1, WHOLE_TABLE_TEST: 1}


def test_scope_is_exactly_the_last_batch(batch_runs: dict[int, BatchRun]) -> None:
    run = batch_runs[3]
    assert run.all_row_ids == {1, 2, 3, 4}
    assert run.latest_batch_row_ids == {4}
    # the bad row 3 is still in the table, outside the last batch
    assert run.statuses == {SCOPED_TEST: "pass", WHOLE_TABLE_TEST: "fail"}
    assert run.failures == {SCOPED_TEST: 0, WHOLE_TABLE_TEST: 1}
