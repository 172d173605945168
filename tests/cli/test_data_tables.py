"""Stored text (a stage's detail, a load's reason, an error) prints as written in every CLI
table: a value that looks like rich markup is data, never a style, a link or a crash."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from rich.console import Console

from ingestion.cli.console import DataTable
from ingestion.cli.ingest import summary_table as ingest_table
from ingestion.cli.run import summary_table as run_table
from ingestion.loading.accounting import UnitResult
from ingestion.stage_runner.stages import StageResult

HOSTILE = (
    "[/b]",
    "[link=http://127.0.0.1:9/phish]the export[/link]",
    "events_[bold].jsonl: [red]not JSON[/red]",
    "[[escaped]] \\[x]",
)


def rendered(table: DataTable) -> str:
    console = Console(width=400, record=True, no_color=True, file=io.StringIO())
    console.print(table)
    return console.export_text()


@pytest.mark.parametrize("detail", HOSTILE)
def test_a_stage_detail_prints_as_written(detail: str) -> None:
    result = StageResult("ingest", "failed", 1.0, detail, dt.datetime.now(dt.UTC))
    assert detail in rendered(run_table([result], f"run-{detail}"))


@pytest.mark.parametrize("name", HOSTILE)
def test_a_table_name_prints_as_written(name: str) -> None:
    unit = UnitResult(source="files", table=name, status="failed")
    assert name in rendered(ingest_table([unit], "shopflow ingest"))


def test_markup_in_a_cell_makes_no_link() -> None:
    table = DataTable(title="[link=http://127.0.0.1:9/]t[/link]")
    table.add_column("detail")
    table.add_row(HOSTILE[1])
    console = Console(
        width=200, record=True, force_terminal=True, color_system="truecolor", file=io.StringIO()
    )
    console.print(table)
    assert "\x1b]8;" not in console.file.getvalue()  # type: ignore[attr-defined]
    assert "[link=http://127.0.0.1:9/]t[/link]" in console.export_text()


def test_as_lines_wraps_every_row_within_the_width_and_cuts_nothing() -> None:
    title = "Tests of the last production build (pass=423, warn=1; dbt invocation " + "e" * 36 + ")"
    table = DataTable(title=title)
    for column in ("run", "status", "error or detail"):
        table.add_column(column)
    detail = "dbt build failed: " + "test not_null_fct_orders_order_id failed; " * 12
    table.add_row("20261207T101500Z-0a1b2c", "failed", detail)
    table.add_row("20261206T101500Z-9f8e7d", "ok", None)
    lines = table.as_lines(100)
    assert all(len(line) <= 100 for line in lines), "the title too"
    assert " ".join(line.strip() for line in lines[:2]) == title
    assert lines[2].startswith("- run: 20261207T101500Z-0a1b2c; status: failed; error or detail:")
    assert all(line.startswith("  ") for line in lines[3:-1]), "continuations are indented"
    joined = " ".join(line.strip() for line in lines[2:-1])
    assert joined.count("order_id failed;") == 12, "nothing cut"
    assert lines[-1] == "- run: 20261206T101500Z-9f8e7d; status: ok"
