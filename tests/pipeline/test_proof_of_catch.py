"""Proof that the net catches fish: classic mistakes injected one at a time into a copy of the
dbt project make `dbt build` fail, through the project's own tests (data, singular and unit
tests that run in every production build), while the unmodified copy builds clean.

Each build selects the mutated model and its children only, deferring to the session's
production build and writing to `catch_*` schemas (the slim CI mechanism)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.settings import Settings
from ingestion.transform.dbt_runner import DbtError, run_dbt
from ingestion.transform.slim_ci import production_state_dir
from tests.pipeline.support import copy_dbt_project
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

PREFIX = "catch"
MODELS = "dbt_project/models/intermediate"
FEATURES = "dbt_project/models/features"


@dataclass(frozen=True)
class Mistake:
    model: str
    path: str
    correct: str
    mistaken: str
    caught_by: frozenset[str]
    """tests of the project (any one of them) that must fail on the mistake"""


MISTAKES = {
    "fan-out join doubles revenue": Mistake(
        model="int_order_items_priced",
        path=f"{MODELS}/sales/int_order_items_priced.sql",
        # the rate joined on the month only: every line once per currency of that month
        correct='{{ join_exchange_rate("orders.currency_code", "orders.ordered_at") }}\n',
        mistaken=(
            "left join exchange_rates\n"
            '        on {{ month_start_date("orders.ordered_at") }}'
            " = exchange_rates.month_start_date\n"
        ),
        caught_by=frozenset(
            {
                "test_order_items_currency_and_recognition",
                "unique_int_order_items_priced_order_item_id",
                "assert_fct_sales_revenue_matches_priced_staging_lines",
            }
        ),
    ),
    "wrong status filter recognises pending orders": Mistake(
        model="int_order_items_priced",
        path=f"{MODELS}/sales/int_order_items_priced.sql",
        correct='{{ is_recognised_order_status("joined.order_status") }} as is_recognised',
        mistaken=(
            "joined.order_status in ('pending', 'paid', 'shipped', 'delivered') as is_recognised"
        ),
        caught_by=frozenset(
            {
                "test_order_items_currency_and_recognition",
                "assert_fct_sales_revenue_matches_priced_staging_lines",
            }
        ),
    ),
    "dropped currency conversion": Mistake(
        model="int_marketplace_sales_priced",
        path=f"{MODELS}/sales/int_marketplace_sales_priced.sql",
        correct=(
            "        cast(\n"
            "            marketplace_sales.gross_amount * exchange_rates.rate_to_usd"
            " as {{ dbt.type_numeric() }}\n"
            "        ) as net_revenue_usd,"
        ),
        mistaken=(
            "        cast(marketplace_sales.gross_amount as {{ dbt.type_numeric() }})"
            " as net_revenue_usd,"
        ),
        caught_by=frozenset({"assert_fct_sales_revenue_matches_priced_staging_lines"}),
    ),
    "SCD2 join on today's version": Mistake(
        model="int_sales_lines_keyed",
        path=f"{MODELS}/sales/int_sales_lines_keyed.sql",
        correct='and {{ is_version_valid_at("sales_lines.sold_at", "customer_versions") }}',
        mistaken=(
            "and customer_versions.window_end_at"
            " = {{ dbt.cast(\"'9999-12-31 00:00:00'\", dbt.type_timestamp()) }}"
        ),
        caught_by=frozenset({"test_sales_lines_point_in_time_join"}),
    ),
    "feature row reads its own as-of day (leakage)": Mistake(
        model="feat_customer_daily",
        path=f"{FEATURES}/feat_customer_daily.sql",
        # stamped at the start of the day it summarises: it holds that day's orders and events
        correct="customer_days.activity_date + 1 as as_of_date,",
        mistaken="customer_days.activity_date as as_of_date,",
        caught_by=frozenset(
            {
                "test_customer_features_use_only_what_happened_before_as_of_at",
                "assert_features_use_nothing_after_their_as_of_time",
            }
        ),
    ),
    "feature country from a version that starts later that day (leakage)": Mistake(
        model="feat_customer_daily",
        path="macros/features/is_version_in_force_before.sql",
        correct="{{ as_of_at }} > {{ version_relation }}.valid_from",
        mistaken="{{ as_of_at }} + interval '1 day' > {{ version_relation }}.valid_from",
        caught_by=frozenset(
            {
                "test_customer_features_use_only_what_happened_before_as_of_at",
                "assert_features_use_nothing_after_their_as_of_time",
            }
        ),
    ),
}


@pytest.fixture(scope="module")
def project(built_warehouse: BuiltWarehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_dbt_project(tmp_path_factory.mktemp("proof-of-catch") / "project")


@pytest.fixture
def target(project: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DBT_TARGET_PATH", str(project / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(project / "logs"))
    return project / "target"


def build(warehouse: BuiltWarehouse, project: Path, select: list[str], *flags: str) -> None:
    state = production_state_dir(warehouse.settings)
    run_dbt(
        [
            *("build", "--select", *select, "--defer", "--state", str(state), "--full-refresh"),
            *("--vars", json.dumps({"dbt_results_schema": f"{PREFIX}_audit"}), *flags),
        ],
        warehouse.settings,
        Settings.from_environment(),
        project_dir=project,
        stream=False,
        extra_env={"SHOPFLOW_SCHEMA_PREFIX": PREFIX},
    )


def failed_tests(target: Path) -> set[str]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    # test.<project>.<test name>.<hash>; unit_test.<project>.<model>.<unit test name>
    return {
        result["unique_id"].split(".")[2 if result["unique_id"].startswith("test.") else 3]
        for result in results
        if result["unique_id"].startswith(("test.", "unit_test."))
        and result["status"] in ("fail", "error")
    }


def test_the_unmodified_copy_builds_clean(
    built_warehouse: BuiltWarehouse, project: Path, target: Path
) -> None:
    selected = sorted({f"{mistake.model}+" for mistake in MISTAKES.values()})
    build(built_warehouse, project, selected)
    assert failed_tests(target) == set()


@pytest.mark.parametrize("name", list(MISTAKES))
def test_the_build_fails_on_the_mistake(
    name: str, built_warehouse: BuiltWarehouse, project: Path, target: Path
) -> None:
    mistake = MISTAKES[name]
    model_file = project / mistake.path
    original = model_file.read_text()
    assert original.count(mistake.correct) == 1, f"{mistake.path} changed: update the mistake"
    model_file.write_text(original.replace(mistake.correct, mistake.mistaken))
    try:
        with pytest.raises(DbtError):
            build(built_warehouse, project, [f"{mistake.model}+"], "--fail-fast")
    finally:
        model_file.write_text(original)
    caught = failed_tests(target)
    assert caught & mistake.caught_by, f"{name}: failed {caught}, expected one of the catchers"
