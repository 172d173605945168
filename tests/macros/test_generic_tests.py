"""Each home-made generic test (macros/generic_tests/) fails on bad rows and passes on good ones.

A small dbt project is written to a temporary folder: seeds with good and bad rows, and a
properties file applying every generic test to both. Its macro path is a copy of this repo's
`macros/`, so the real macros are under test, including the on-run-start/on-run-end hooks that
store the invocation's results in `audit.dbt_results`. One `dbt build` runs everything; each
test instance's name ends with the outcome it must have (`__pass`, `__fail`, `__warn`), and
`target/run_results.json` must show exactly those outcomes.
"""

from __future__ import annotations

import json
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from ingestion.settings import REPO_ROOT, ConnectionSettings
from tests.macros.generic_tests_project import (
    DBT_PROJECT_YML,
    EXPECTED_FAILURES,
    PROJECT_NAME,
    PROPERTIES_YML,
    SEEDS,
)
from tests.macros.proof_projects import dbt_with_failing_tests, write_proof_project

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TEST_MACRO = re.compile(r"{%-?\s*test\s+(\w+)\s*\(")


@dataclass(frozen=True)
class ProofOutcome:
    """What dbt reported for one test instance."""

    name: str
    generic_test: str
    status: str
    failures: int | None


@dataclass(frozen=True)
class ProofRun:
    """The outcome of the single `dbt build` of the proof project."""

    invocation_id: str
    outcomes: dict[str, ProofOutcome]
    node_count: int
    """Nodes the build ran, hooks excepted (dbt hands hooks no result of their own)."""


def write_project(root: Path) -> Path:
    files = {"dbt_project.yml": DBT_PROJECT_YML, "seeds/_seeds.yml": PROPERTIES_YML}
    for name, rows in SEEDS.items():
        files[f"seeds/{name}.csv"] = textwrap.dedent(rows)
    return write_proof_project(root, PROJECT_NAME, files)


def read_json(path: Path) -> dict[str, Any]:
    """Read one of dbt's JSON artifacts."""
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def proof_run(
    proof_warehouse: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> ProofRun:
    """Build the proof project once against the throwaway warehouse and collect every outcome."""
    project = write_project(tmp_path_factory.mktemp("generic-tests"))
    run_results_path = dbt_with_failing_tests(["build"], project, proof_warehouse)
    run_results = read_json(run_results_path)
    manifest = read_json(project / "target" / "manifest.json")
    outcomes: dict[str, ProofOutcome] = {}
    node_count = 0
    for result in run_results["results"]:
        node = manifest["nodes"][result["unique_id"]]
        if node["resource_type"] == "operation":
            continue
        node_count += 1
        if node["resource_type"] != "test":
            assert result["status"] == "success", f"{node['name']}: {result['message']}"
            continue
        outcomes[node["name"]] = ProofOutcome(
            name=node["name"],
            generic_test=node["test_metadata"]["name"],
            status=result["status"],
            failures=result["failures"],
        )
    return ProofRun(
        invocation_id=run_results["metadata"]["invocation_id"],
        outcomes=outcomes,
        node_count=node_count,
    )


def declared_test_names() -> set[str]:
    """The test instances the properties file declares."""
    return set(re.findall(r"name: (\w+__\w+__(?:pass|fail|warn))\b", PROPERTIES_YML))


def test_every_test_instance_has_its_expected_outcome(proof_run: ProofRun) -> None:
    declared = declared_test_names()
    assert set(proof_run.outcomes) == declared

    wrong = {
        name: outcome.status
        for name, outcome in proof_run.outcomes.items()
        if outcome.status != name.rsplit("__", 1)[1]
    }
    assert wrong == {}, f"tests with an unexpected outcome (name -> status): {wrong}"


def test_failure_counts_are_exact(proof_run: ProofRun) -> None:
    counted = {name: proof_run.outcomes[name].failures for name in EXPECTED_FAILURES}
    assert counted == EXPECTED_FAILURES


def test_every_generic_test_macro_is_proven_both_ways(proof_run: ProofRun) -> None:
    macros = {
        match
        for path in (REPO_ROOT / "macros" / "generic_tests").glob("*.sql")
        for match in TEST_MACRO.findall(path.read_text())
    }
    assert macros, "no generic test macro found"
    for macro in sorted(macros):
        statuses = {o.status for o in proof_run.outcomes.values() if o.generic_test == macro}
        assert {"pass", "fail"} <= statuses, f"{macro} is not proven to pass and to fail"


def test_on_run_end_hook_stores_every_node_result(
    proof_run: ProofRun, proof_warehouse: ConnectionSettings
) -> None:
    with psycopg2.connect(proof_warehouse.warehouse_url) as conn, conn.cursor() as cur:
        cur.execute(
            "select node_name, status, failures, command from audit.dbt_results"
            " where invocation_id = %s",
            (proof_run.invocation_id,),
        )
        rows = cur.fetchall()
    assert len(rows) == proof_run.node_count
    stored = {name: (status, failures) for name, status, failures, _ in rows}
    for name, outcome in proof_run.outcomes.items():
        assert stored[name] == (outcome.status, outcome.failures)
    assert {command for *_, command in rows} == {"build"}
