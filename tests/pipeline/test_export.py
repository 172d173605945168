"""`shopflow export` on the session's built warehouse: every question, csv and parquet, equals
its mart (rows and money), `--as-of`, `--list`, the errors, and `export_all` for `shopflow run`."""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from ingestion.cli.app import app
from ingestion.exports import QUESTIONS, ExportFormat, export_all
from ingestion.exports.cells import is_unclassified_number, result_columns
from ingestion.exports.exporter import marts_snapshot, render_query
from ingestion.settings import ENV_DATABASE, ENV_EXPORT_MAIL_URL
from tests.mail_server import smtp_server
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# question -> (the rows it must hold, their money column)
EXPECTED_SOURCE = {
    "open_orders": ("marts.fct_orders where is_open", "net_amount_usd"),
    "pending_items": ("marts.mart_pending_items_by_product", "pending_amount_usd"),
    "top_delivery_dates": ("marts.mart_open_orders_by_delivery_date", "open_amount_usd"),
    # without --as-of: the orders open at the end of business today, which are today's open
    "open_orders_by_delivery_date": ("marts.mart_open_orders_by_delivery_date", "open_amount_usd"),
    "customers_with_open_orders": ("marts.mart_customers_with_open_orders", "open_amount_usd"),
    "top_customers": ("marts.mart_top_customers", "lifetime_revenue_usd"),
    "monthly_revenue": ("marts.mart_monthly_revenue", "net_revenue_usd"),
    "monthly_revenue_by_channel": ("marts.mart_monthly_revenue_by_channel", "net_revenue_usd"),
    "aov_by_country": ("marts.mart_aov_by_country", "net_revenue_usd"),
    "best_sellers": ("marts.mart_best_sellers_by_category", "net_revenue_usd"),
}
FILE_NAME = r"{name}_\d{{8}}T\d{{6}}Z\.{ext}"


def export(*args: str) -> Result:
    return CliRunner().invoke(app, ["export", *args])


def read_rows(path: Path) -> list[dict[str, object]]:
    """The file's rows as dicts; csv values as text (empty = None), parquet values typed."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            return [
                {key: value or None for key, value in row.items()} for row in csv.DictReader(handle)
            ]
    return pq.read_table(path).to_pylist()


def exported_file(out_dir: Path, name: str, fmt: str) -> Path:
    """The one file of question ``name`` (a name can start another's: open_orders)."""
    pattern = FILE_NAME.format(name=re.escape(name), ext=fmt)
    files = [path for path in out_dir.iterdir() if re.fullmatch(pattern, path.name)]
    assert len(files) == 1, files
    return files[0]


def money_sum(rows: list[dict[str, object]], column: str) -> Decimal:
    return sum((Decimal(str(row[column])) for row in rows if row[column] is not None), Decimal(0))


def test_every_source_is_covered() -> None:
    assert set(EXPECTED_SOURCE) == set(QUESTIONS)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("name", list(EXPECTED_SOURCE))
def test_each_question_holds_its_marts_rows_and_money(
    built_warehouse: BuiltWarehouse, tmp_path: Path, name: str, fmt: str
) -> None:
    source, money = EXPECTED_SOURCE[name]
    # csv writes money to the cent, parquet as stored
    cell = f"round({money}, 2)" if fmt == "csv" else money
    count, total = built_warehouse.query(
        f"select count(*), coalesce(sum({cell}), 0) from {source}"
    )[0]
    result = export(name, "--format", fmt, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    path = exported_file(tmp_path, name, fmt)
    rows = read_rows(path)
    assert len(rows) == count
    assert money_sum(rows, money) == total
    shown = "0 rows (empty result)" if count == 0 else f"{count} rows"
    assert f"{name}: {shown} -> " in result.output
    assert path.name in result.output
    assert [p.name for p in tmp_path.iterdir()] == [path.name], "no temporary file is left"


def test_csv_money_is_in_cents_and_timestamps_carry_their_zone(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    for name in ("open_orders", "monthly_revenue_by_channel"):
        assert export(name, "--out", str(tmp_path)).exit_code == 0
    orders = read_rows(exported_file(tmp_path, "open_orders", "csv"))
    assert orders, "the small world has open orders"
    for row in orders:
        for column in ("net_amount", "net_amount_usd"):
            assert re.fullmatch(r"-?\d+\.\d{2}", str(row[column])), (column, row[column])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", str(row["ordered_at"]))
    newest = max(row["ordered_at"] for row in orders)
    stored = built_warehouse.scalar("select max(ordered_at) from marts.fct_orders where is_open")
    assert newest == f"{stored:%Y-%m-%dT%H:%M:%S}Z", "UTC as stored, to the second"
    by_channel = read_rows(exported_file(tmp_path, "monthly_revenue_by_channel", "csv"))
    ratios = [
        row["month_over_month_growth_rate"]
        for row in by_channel
        if row["month_over_month_growth_rate"]
    ]
    assert ratios and all(re.fullmatch(r"-?\d+\.\d{6}", str(r)) for r in ratios), "ratios keep 6"


def test_every_number_a_question_returns_is_money_or_a_ratio(
    built_warehouse: BuiltWarehouse,
) -> None:
    """A new question's numbers cannot reach finance unclassified (cents or six decimals)."""
    with marts_snapshot(built_warehouse.settings) as connection, connection.cursor() as cursor:
        for chosen in QUESTIONS.values():
            columns = result_columns(cursor, render_query(cursor, chosen, "marts", None))
            assert [c.name for c in columns if is_unclassified_number(c)] == [], chosen.name


def test_rows_come_in_the_stated_order(built_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    for name in ("top_delivery_dates", "monthly_revenue", "top_customers"):
        assert export(name, "--format", "parquet", "--out", str(tmp_path)).exit_code == 0
    busiest = read_rows(exported_file(tmp_path, "top_delivery_dates", "parquet"))
    assert [r["open_orders"] for r in busiest] == sorted(
        (r["open_orders"] for r in busiest), reverse=True
    )
    months = [
        r["month_start_date"]
        for r in read_rows(exported_file(tmp_path, "monthly_revenue", "parquet"))
    ]
    assert months == sorted(months)
    ranks = [
        r["customer_rank"] for r in read_rows(exported_file(tmp_path, "top_customers", "parquet"))
    ]
    assert ranks == list(range(1, len(ranks) + 1))


def test_as_of_keeps_deliveries_from_the_date_and_months_up_to_it(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    delivery_dates = [
        row[0]
        for row in built_warehouse.query(
            "select delivery_date from marts.fct_orders where is_open order by delivery_date"
        )
    ]
    months = [
        row[0]
        for row in built_warehouse.query(
            "select month_start_date from marts.mart_monthly_revenue order by 1"
        )
    ]
    assert delivery_dates and len(months) > 1, "the small world has open orders and months"
    cut = delivery_dates[len(delivery_dates) // 2]
    month_cut = months[len(months) // 2] + timedelta(days=14)  # mid-month: that month counts
    expected = {
        "open_orders": (cut, sum(1 for d in delivery_dates if d is not None and d >= cut)),
        "top_delivery_dates": (cut, len({d for d in delivery_dates if d and d >= cut})),
        "monthly_revenue": (month_cut, sum(1 for m in months if m <= month_cut)),
    }
    for name, (as_of, count) in expected.items():
        result = export(name, "--as-of", as_of.isoformat(), "--out", str(tmp_path))
        assert result.exit_code == 0, result.output
        assert len(read_rows(exported_file(tmp_path, name, "csv"))) == count, name
    if delivery_dates[0] < cut:
        assert expected["open_orders"][1] < len(delivery_dates), "the date did cut something"


def test_open_orders_of_a_past_day_include_those_shipped_since(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    """A week before business today, the orders placed by then and shipped after it were open:
    the answer for that day holds them, which today's open orders cannot."""
    today = built_warehouse.scalar("select date_day from marts.dim_date where is_business_today")
    assert isinstance(today, date)
    day = today - timedelta(days=7)
    end = f"date '{day + timedelta(days=1)}'"  # the end of that day
    shipped_since = built_warehouse.scalar(
        f"select count(*) from marts.fct_orders where ordered_at < {end} and shipped_at >= {end}"
    )
    assert isinstance(shipped_since, int) and shipped_since > 0, "the world ships every week"
    result = export(
        "open_orders_by_delivery_date", "--as-of", day.isoformat(), "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    rows = read_rows(exported_file(tmp_path, "open_orders_by_delivery_date", "csv"))
    assert {row["as_of_date"] for row in rows} == {day.isoformat()}
    open_then = sum(int(str(row["open_orders"])) for row in rows)
    still_open = built_warehouse.scalar(
        f"select count(*) from marts.fct_orders where is_open and ordered_at < {end}"
    )
    assert isinstance(still_open, int)
    assert open_then >= still_open + shipped_since


def test_as_of_after_every_delivery_gives_an_empty_file_with_its_header(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    result = export("open_orders", "--as-of", date(2099, 1, 1).isoformat(), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "open_orders: 0 rows (empty result)" in result.output
    lines = exported_file(tmp_path, "open_orders", "csv").read_text().splitlines()
    assert lines == [lines[0]] and lines[0].startswith("order_id,")


def test_as_of_is_refused_where_it_makes_no_sense(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    result = export("top_customers", "--as-of", "2025-06-01", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert "top_customers has no --as-of date" in " ".join(result.output.split())
    assert export("monthly_revenue", "--as-of", "2025-13-01").exit_code == 2
    assert list(tmp_path.iterdir()) == []


def test_list_names_and_describes_every_question(built_warehouse: BuiltWarehouse) -> None:
    result = export("--list")
    assert result.exit_code == 0, result.output
    for item in QUESTIONS.values():
        assert f"{item.name}: {item.description}" in result.output


def test_an_unknown_name_lists_the_valid_ones(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    result = export("open_order", "--out", str(tmp_path))
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "no question named 'open_order'" in output
    assert all(name in output for name in QUESTIONS)
    assert list(tmp_path.iterdir()) == []


def test_a_warehouse_not_built_says_to_run_the_pipeline(
    built_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the operations database exists but holds no marts; the other one does not exist
    for database in (built_warehouse.settings.ops_database, "shopflow_never_built"):
        monkeypatch.setenv(ENV_DATABASE, database)
        result = export("open_orders", "--out", str(tmp_path))
        assert result.exit_code == 1
        output = " ".join(result.output.split())
        assert "has not been built yet" in output and "run `shopflow run` first" in output
    assert list(tmp_path.iterdir()) == []


def test_export_all_writes_every_question_at_one_time(
    built_warehouse: BuiltWarehouse, tmp_path: Path
) -> None:
    results = export_all(built_warehouse.settings, tmp_path, ExportFormat.PARQUET)
    assert [r.name for r in results] == list(QUESTIONS)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(r.path.name for r in results)
    stamps = {r.path.name.removeprefix(f"{r.name}_") for r in results}
    assert len(stamps) == 1, "one timestamp for the whole set"
    for r in results:
        source, _ = EXPECTED_SOURCE[r.name]
        assert (
            r.rows
            == built_warehouse.scalar(f"select count(*) from {source}")
            == len(read_rows(r.path))
        )


def test_all_with_mail_sends_every_file_and_keeps_them(
    built_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server() as box:
        monkeypatch.setenv(ENV_EXPORT_MAIL_URL, box.url)
        result = export("--all", "--mail", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    files = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    assert len(files) == len(QUESTIONS)
    assert box.attachments() == files, "every file, byte for byte, in one message"
    assert f"mailed {len(QUESTIONS)} file(s) to 1 receiver(s)" in result.output


def test_mail_without_its_url_is_refused_before_anything_is_written(
    built_warehouse: BuiltWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_EXPORT_MAIL_URL, raising=False)
    result = export("open_orders", "--mail", "--out", str(tmp_path))
    assert result.exit_code == 1
    assert f"--mail needs {ENV_EXPORT_MAIL_URL}" in " ".join(result.output.split())
    assert list(tmp_path.iterdir()) == []


def test_one_name_or_all_not_both(built_warehouse: BuiltWarehouse, tmp_path: Path) -> None:
    for args in (("open_orders", "--all"), ()):
        result = export(*args, "--out", str(tmp_path))
        assert result.exit_code == 1 and "or use --all" in result.output, args
    refused = export("--all", "--as-of", "2025-12-01", "--out", str(tmp_path))
    assert refused.exit_code == 1 and "--as-of goes with one question" in refused.output
    assert list(tmp_path.iterdir()) == []
