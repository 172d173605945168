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
import logging
import re
import shutil
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from ingestion.settings import REPO_ROOT, ConnectionSettings, Settings
from ingestion.transform.dbt_runner import DbtError, run_dbt
from tests.macros.proof_projects import proof_project_yml

pytestmark = [pytest.mark.integration, pytest.mark.slow]

log = logging.getLogger(__name__)

PROJECT_NAME = "generic_tests_proof"
SEED_SCHEMA = "generic_tests_proof"

DBT_PROJECT_YML = proof_project_yml(
    PROJECT_NAME, f"seeds:\n  {PROJECT_NAME}:\n    +schema: {SEED_SCHEMA}\n"
)

SEEDS: dict[str, str] = {
    "range_good": "amount\n0\n0.25\n0.5\n\n",
    "range_bad": "amount\n0.1\n0.6\n-0.2\n",
    "numbers_good": "quantity\n0\n3\n\n",
    "numbers_bad": "quantity\n-1\n2\n",
    "emails_good": (
        "email\na@b.com\nfirst.last+tag@mail.example.co.uk\nUPPER_case@Example.ORG\n\n"
    ),
    "emails_bad": (
        "email\na@b.com\nno-at-sign.example.com\ntwo@@example.com\n"
        "spaces in@example.com\nmissing@tld\n"
    ),
    "events_recent": "event_at\n2026-01-05 10:00:00\n2026-01-09 23:00:00\n",
    "events_stale": "event_at\n2025-12-20 10:00:00\n2026-01-01 00:00:00\n",
    "rows_three": "row_id\n1\n2\n3\n",
    "rows_three_again": "row_id\n10\n20\n30\n",
    "rows_five": "row_id\n1\n2\n3\n4\n5\n",
    "pairs_good": "order_id,line_number\n1,1\n1,2\n2,1\n",
    "pairs_bad": "order_id,line_number\n1,1\n1,1\n2,1\n",
    "scd_good": (
        "customer_id,valid_from,valid_to\n"
        "1,2025-01-01,2025-02-01\n1,2025-02-01,2025-03-01\n1,2025-03-01,\n"
        "2,2025-01-15,\n"
    ),
    "scd_overlap": "customer_id,valid_from,valid_to\n1,2025-01-01,2025-03-01\n1,2025-02-01,\n",
    "scd_two_current": "customer_id,valid_from,valid_to\n1,2025-01-01,\n1,2025-02-01,\n",
    "scd_no_current": ("customer_id,valid_from,valid_to\n1,2025-01-01,2025-02-01\n2,2025-01-01,\n"),
    "scd_inverted": ("customer_id,valid_from,valid_to\n1,2025-03-01,2025-02-01\n1,2025-03-01,\n"),
    "scd_sentinel": (
        "customer_id,valid_from,valid_to\n1,2025-01-01,2025-02-01\n1,2025-02-01,9999-12-31\n"
    ),
    "amounts_good": "gross_amount,net_amount\n10,8\n5,5\n",
    "amounts_bad": "gross_amount,net_amount\n10,8\n10,12\n",
}

SCD_TYPES = "{customer_id: integer, valid_from: timestamp, valid_to: timestamp}"

PROPERTIES_YML = f"""\
version: 2

seeds:
  - name: range_good
    config: {{column_types: {{amount: numeric}}}}
    columns:
      - name: amount
        data_tests:
          - accepted_range:
              name: accepted_range__inside_inclusive_bounds__pass
              arguments: {{min_value: 0, max_value: 0.5}}
          - accepted_range:
              name: accepted_range__on_exclusive_bounds__fail
              arguments: {{min_value: 0, max_value: 0.5, inclusive: false}}
  - name: range_bad
    config: {{column_types: {{amount: numeric}}}}
    columns:
      - name: amount
        data_tests:
          - accepted_range:
              name: accepted_range__outside_bounds__fail
              arguments: {{min_value: 0, max_value: 0.5}}
          - accepted_range:
              name: accepted_range__only_upper_bound__pass
              arguments: {{max_value: 1}}
          - accepted_range:
              name: accepted_range__outside_bounds_filtered_by_where__pass
              arguments: {{min_value: 0, max_value: 0.5}}
              config: {{where: "amount between 0 and 0.5"}}

  - name: numbers_good
    config: {{column_types: {{quantity: integer}}}}
    columns:
      - name: quantity
        data_tests:
          - not_negative:
              name: not_negative__zero_positive_and_null__pass
  - name: numbers_bad
    config: {{column_types: {{quantity: integer}}}}
    columns:
      - name: quantity
        data_tests:
          - not_negative:
              name: not_negative__negative_quantity__fail

  - name: emails_good
    config: {{column_types: {{email: text}}}}
    columns:
      - name: email
        data_tests:
          - valid_email:
              name: valid_email__well_formed_addresses__pass
  - name: emails_bad
    config: {{column_types: {{email: text}}}}
    columns:
      - name: email
        data_tests:
          - valid_email:
              name: valid_email__malformed_addresses__fail
          - valid_email:
              name: valid_email__malformed_addresses_as_warning__warn
              config: {{severity: warn}}
          - valid_email:
              name: valid_email__malformed_addresses_under_threshold__pass
              config: {{warn_if: ">5", error_if: ">5"}}

  - name: events_recent
    config: {{column_types: {{event_at: timestamp}}}}
    data_tests:
      - recency:
          name: recency__newest_within_two_days_of_clock__pass
          arguments:
            field: event_at
            datepart: day
            interval: 2
            reference_timestamp: "cast('2026-01-10 12:00:00' as timestamp)"
      - recency:
          name: recency__old_data_against_wall_clock__fail
          arguments: {{field: event_at, datepart: day, interval: 2}}
    columns:
      - name: event_at
        data_tests:
          - recency:
              name: recency__on_column_with_expression_clock__pass
              arguments:
                datepart: hour
                interval: 24
                reference_timestamp: "cast('2026-01-10' as date) + interval '12 hours'"
  - name: events_stale
    config: {{column_types: {{event_at: timestamp}}}}
    data_tests:
      - recency:
          name: recency__newest_nine_days_before_clock__fail
          arguments:
            field: "event_at + interval '1 hour'"
            datepart: day
            interval: 2
            reference_timestamp: "cast('2026-01-10 12:00:00' as timestamp)"

  - name: rows_three
    data_tests:
      - equal_row_count:
          name: equal_row_count__same_count__pass
          arguments:
            compare_model: ref('rows_three_again')
      - equal_row_count:
          name: equal_row_count__three_against_five__fail
          arguments:
            compare_model: ref('rows_five')
      - equal_row_count:
          name: equal_row_count__two_apart_under_threshold__pass
          arguments:
            compare_model: ref('rows_five')
          config: {{error_if: ">2", warn_if: ">2"}}
  - name: rows_five
    data_tests:
      - equal_row_count:
          name: equal_row_count__five_filtered_to_three_by_where__pass
          arguments:
            compare_model: ref('rows_three')
          config: {{where: "row_id <= 3"}}

  - name: pairs_good
    data_tests:
      - unique_combination_of_columns:
          name: unique_combination_of_columns__distinct_pairs__pass
          arguments:
            combination_of_columns: [order_id, line_number]
  - name: pairs_bad
    data_tests:
      - unique_combination_of_columns:
          name: unique_combination_of_columns__repeated_pair__fail
          arguments:
            combination_of_columns: [order_id, line_number]

  - name: scd_good
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__contiguous_history__pass
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
    columns:
      - name: customer_id
        data_tests:
          - scd2_valid_intervals:
              name: scd2_valid_intervals__on_key_column__pass
              arguments: {{valid_from: valid_from, valid_to: valid_to}}
  - name: scd_overlap
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__overlapping_versions__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
  - name: scd_two_current
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__two_current_versions__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
  - name: scd_no_current
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__key_without_current_version__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
      - scd2_valid_intervals:
          name: scd2_valid_intervals__closed_key_allowed__pass
          arguments:
            key_column: customer_id
            valid_from: valid_from
            valid_to: valid_to
            allow_keys_without_current_row: true
  - name: scd_inverted
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__valid_to_before_valid_from__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}
  - name: scd_sentinel
    config: {{column_types: {SCD_TYPES}}}
    data_tests:
      - scd2_valid_intervals:
          name: scd2_valid_intervals__sentinel_current_version__pass
          arguments:
            key_column: customer_id
            valid_from: valid_from
            valid_to: valid_to
            current_valid_to: "cast('9999-12-31' as timestamp)"
      - scd2_valid_intervals:
          name: scd2_valid_intervals__sentinel_not_declared__fail
          arguments: {{key_column: customer_id, valid_from: valid_from, valid_to: valid_to}}

  - name: amounts_good
    config: {{column_types: {{gross_amount: numeric, net_amount: numeric}}}}
    data_tests:
      - expression_is_true:
          name: expression_is_true__net_within_gross__pass
          arguments: {{expression: "net_amount <= gross_amount"}}
    columns:
      - name: net_amount
        data_tests:
          - expression_is_true:
              name: expression_is_true__on_column__pass
              arguments: {{expression: ">= 0"}}
  - name: amounts_bad
    config: {{column_types: {{gross_amount: numeric, net_amount: numeric}}}}
    data_tests:
      - expression_is_true:
          name: expression_is_true__net_above_gross__fail
          arguments: {{expression: "net_amount <= gross_amount"}}
      - expression_is_true:
          name: expression_is_true__bad_row_filtered_by_where__pass
          arguments: {{expression: "net_amount <= gross_amount"}}
          config: {{where: "net_amount <= 8"}}
"""

# Failing rows some failures must count exactly (the rest only need their status).
EXPECTED_FAILURES = {
    "accepted_range__outside_bounds__fail": 2,
    "valid_email__malformed_addresses__fail": 4,
    "equal_row_count__three_against_five__fail": 2,
    "unique_combination_of_columns__repeated_pair__fail": 1,
    "scd2_valid_intervals__key_without_current_version__fail": 1,
}

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


def write_proof_project(root: Path) -> Path:
    """Write the proof project (with a copy of the repo's macros) under `root`; return its dir."""
    project = root / PROJECT_NAME
    shutil.copytree(REPO_ROOT / "macros", project / "macros")
    (project / "models").mkdir(parents=True)
    (project / "seeds").mkdir()
    (project / "dbt_project.yml").write_text(DBT_PROJECT_YML)
    (project / "seeds" / "_seeds.yml").write_text(PROPERTIES_YML)
    for name, rows in SEEDS.items():
        (project / "seeds" / f"{name}.csv").write_text(textwrap.dedent(rows))
    return project


def read_json(path: Path) -> dict[str, Any]:
    """Read one of dbt's JSON artifacts."""
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def proof_run(warehouse: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory) -> ProofRun:
    """Build the proof project once against the throwaway warehouse and collect every outcome."""
    project = write_proof_project(tmp_path_factory.mktemp("generic-tests"))
    try:
        # the proof project keeps its own target/, whatever DBT_TARGET_PATH other tests set
        own_target = {"DBT_TARGET_PATH": str(project / "target")}
        run_dbt(
            ["build"],
            warehouse,
            Settings.from_environment(),
            project_dir=project,
            stream=False,
            extra_env=own_target,
        )
    except DbtError as exc:  # failing tests are the point: dbt exits 1
        log.info("the proof build exited non-zero, as expected: %s", str(exc).splitlines()[0])
    run_results_path = project / "target" / "run_results.json"
    assert run_results_path.exists(), "dbt build did not get as far as running anything"
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
    proof_run: ProofRun, warehouse: ConnectionSettings
) -> None:
    with psycopg2.connect(warehouse.warehouse_url) as conn, conn.cursor() as cur:
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
