"""`shopflow run` end to end on a throwaway warehouse, then again after the sources move on."""

from __future__ import annotations

import json

import pytest
from typer.testing import Result

from ingestion.settings import Settings
from ingestion.transform.dbt_runner import run_dbt
from tests.worlds import MOVES, BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARTS = (
    "dim_date",
    "dim_customers",
    "dim_products",
    "fct_orders",
    "fct_sales",
    "fct_events",
    "mart_daily_sales",
    "mart_monthly_revenue",
    "mart_top_customers",
    "mart_best_sellers_by_category",
    "mart_aov_by_country",
    "mart_customer_lifetime_value",
    "mart_customer_rfm",
    "mart_product_affinity",
    "mart_open_orders_by_delivery_date",
    "mart_pending_items_by_product",
    "mart_customers_with_open_orders",
    "mart_funnel_daily",
    "mart_marketing_roas",
    "fct_marketing_spend",
)


def test_every_stage_passes_and_is_summarised(built_warehouse: BuiltWarehouse) -> None:
    output = built_warehouse.first_run.output
    for stage in ("simulate", "ingest", "dbt-build", "docs", "export", "report"):
        assert f"│ {stage} " in output, stage
    assert "failed" not in output and "skipped" not in output


def test_every_mart_is_built_and_filled(built_warehouse: BuiltWarehouse) -> None:
    for mart in MARTS:
        rows = built_warehouse.scalar(f"select count(*) from marts.{mart}")
        assert rows > 0, f"marts.{mart} is empty"


def test_dbt_built_every_node_without_error(built_warehouse: BuiltWarehouse) -> None:
    results = json.loads((built_warehouse.target_dir / "run_results.json").read_text())
    # the last dbt command of a run is `docs generate`; its catalog covers every model
    catalog = json.loads((built_warehouse.target_dir / "catalog.json").read_text())
    assert results["args"]["which"] == "generate"
    assert {f"model.shopflow.{mart}" for mart in MARTS} <= set(catalog["nodes"])
    stored = built_warehouse.query(
        "select status, count(*) from audit.dbt_results group by status order by status"
    )
    assert stored, "the on-run-end hook stored no dbt results"
    assert {status for status, _ in stored} <= {"success", "pass", "warn", "no-op"}, stored


def test_every_source_run_is_audited(built_warehouse: BuiltWarehouse) -> None:
    rows = built_warehouse.query(
        "select source, status, rows_loaded from audit.pipeline_runs "
        "where stage = 'ingest' order by source"
    )
    assert {source for source, _, _ in rows} >= {"storefront", "ops", "files"}
    assert all(status == "ok" for _, status, _ in rows), rows
    assert all(loaded > 0 for _, _, loaded in rows), rows


def test_recognised_revenue_matches_the_raw_order_lines(built_warehouse: BuiltWarehouse) -> None:
    """Ops revenue in fct_sales equals the raw lines of recognised orders, priced independently."""
    mart_total, mart_lines = built_warehouse.query(
        "select sum(net_revenue_usd), count(*) from marts.fct_sales "
        "where is_recognised and channel <> 'marketplace'"
    )[0]
    raw_total, raw_lines = built_warehouse.query(
        """
        select sum(i.quantity * i.unit_price * (1 - i.discount) * r.rate_to_usd), count(*)
        from raw_ops.order_items as i
        inner join raw_ops.orders as o on o.order_id = i.order_id
        inner join seeds.exchange_rates_monthly as r
            on r.currency_code = o.currency
            and r.month_start_date = date_trunc('month', o.ordered_at)::date
        where o.status in ('paid', 'shipped', 'delivered')
        """
    )[0]
    assert mart_lines == raw_lines
    # each line may be rounded to the cent once: allow half a cent per line, no more
    assert abs(mart_total - raw_total) <= 0.005 * raw_lines


def test_a_second_run_after_a_tick_carries_history(
    ticked_warehouse: tuple[BuiltWarehouse, Result],
) -> None:
    warehouse, second = ticked_warehouse
    assert second.exit_code == 0
    closed_versions = warehouse.scalar(
        "select count(*) from marts.dim_customers where not is_current"
    )
    assert closed_versions > 0, "no customer got a second version after the tick"
    multi_version = warehouse.scalar(
        "select count(*) from (select customer_id from marts.dim_customers "
        "group by customer_id having count(*) > 1) as moved"
    )
    assert multi_version > 0
    current_per_customer = warehouse.scalar(
        "select max(n) from (select count(*) as n from marts.dim_customers "
        "where is_current group by customer_id) as c"
    )
    assert current_per_customer == 1
    latest_order = warehouse.scalar("select max(ordered_at) from marts.fct_orders")
    assert str(latest_order) >= "2026-01-01"


def test_a_customer_moving_twice_between_runs_has_both_versions(
    ticked_warehouse: tuple[BuiltWarehouse, Result],
) -> None:
    warehouse, _ = ticked_warehouse
    cities = [
        city
        for (city,) in warehouse.query(
            "select city from marts.dim_customers where customer_id ="
            " (select min(customer_id) from marts.dim_customers where customer_id > 0)"
            " order by valid_from"
        )
    ]
    # as first loaded, then each move: the ops log carries both, not only the state at run time
    assert len(cities) >= 3, cities
    at = cities.index(MOVES[0])
    assert at >= 1 and cities[at + 1] == MOVES[1], cities


def test_incremental_facts_equal_their_full_recomputation_after_the_tick(
    ticked_warehouse: tuple[BuiltWarehouse, Result],
) -> None:
    """The whole-history tests (tag `whole_history`) are left out of `shopflow run`; run
    after its incremental second build, they find fct_events and fct_sales equal to their
    full recomputation."""
    warehouse, second = ticked_warehouse
    assert "assert_fct_events_equals_full_recompute" not in second.output
    output = run_dbt(
        ["test", "--select", "tag:whole_history"],
        warehouse.settings,
        Settings.from_environment(),
        stream=False,
    )
    for test in (
        "assert_fct_events_equals_full_recompute",
        "assert_fct_sales_equals_full_recompute",
    ):
        assert f"PASS {test}" in output, output[-2000:]
    assert "ERROR=0" in output and "FAIL" not in output, output[-2000:]
