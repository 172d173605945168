"""`shopflow export`: a named question on the marts, written to a csv or parquet file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from ingestion.atomic_write import UnwritableFolderError
from ingestion.cli.console import DataTable, console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.database.errors import DatabaseError
from ingestion.database.server_settings import connection_settings
from ingestion.exports import (
    QUESTIONS,
    AsOfNotSupportedError,
    ExportFormat,
    MartsNotBuiltError,
    Question,
    UnknownQuestionError,
    export_question,
)
from ingestion.settings import ENV_EXPORT_NEUTRALISE_FORMULAS


def as_of_text(item: Question) -> str:
    return item.as_of_note if item.supports_as_of else f"not available: {item.as_of_note}"


def list_questions() -> None:
    """The questions with what --as-of means for each: a table on a terminal, else plain lines."""
    if console.is_terminal:
        table = DataTable(title="Questions for `shopflow export <name>`")
        for column in ("name", "what it answers", "--as-of DATE"):
            table.add_column(column)
        for item in QUESTIONS.values():
            table.add_row(item.name, item.description, as_of_text(item))
        console.print(table)
        return
    for item in QUESTIONS.values():
        typer.echo(f"{item.name}: {item.description} --as-of: {as_of_text(item)}.")


def export(
    name: str | None = typer.Argument(
        None, help="The question to export (see --list).", show_default=False
    ),
    fmt: ExportFormat = typer.Option(ExportFormat.CSV, "--format", help="File format."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Folder for the file (default: $SHOPFLOW_EXPORT_DIR, else exports/).",
        show_default=False,
    ),
    as_of: datetime | None = typer.Option(
        None,
        "--as-of",
        formats=["%Y-%m-%d"],
        help="Business date YYYY-MM-DD; its meaning per question is in --list.",
        show_default=False,
    ),
    list_: bool = typer.Option(False, "--list", help="List the questions and stop."),
    raw_cells: bool = typer.Option(
        False,
        "--raw-cells",
        help="Write csv cells exactly as stored, also those a spreadsheet would run as formulas "
        f"(default: neutralised with a leading ', unless {ENV_EXPORT_NEUTRALISE_FORMULAS}=false).",
    ),
) -> None:
    """Export a named question from the marts to a timestamped csv or parquet file."""
    if list_:
        list_questions()
        return
    if name is None:
        fail(f"Name a question to export: one of {', '.join(QUESTIONS)} (or use --list).")
    config = project_settings()
    try:
        result = export_question(
            connection_settings(),
            name,
            out_dir=out or config.export_dir,
            fmt=fmt,
            as_of=as_of.date() if as_of else None,
            neutralise_formulas=config.export_neutralises_formulas and not raw_cells,
        )
    except (
        UnknownQuestionError,
        AsOfNotSupportedError,
        MartsNotBuiltError,
        DatabaseError,
        UnwritableFolderError,
    ) as exc:
        fail(str(exc))
    # a path is printed as written: `[x]` in a folder name is not rich markup
    console.print(result.summary(), highlight=False, soft_wrap=True, markup=False)
