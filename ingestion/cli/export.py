"""`shopflow export`: named questions on the marts, written to csv or parquet files and, with
`--mail`, e-mailed as attachments."""

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
    export_all,
    export_question,
)
from ingestion.monitoring.export_mail import MailNotDeliveredError, mail_files, mail_urls
from ingestion.settings import ENV_EXPORT_MAIL_URL, ENV_EXPORT_NEUTRALISE_FORMULAS


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
    all_: bool = typer.Option(
        False, "--all", help="Export every question (one timestamp, one consistent read)."
    ),
    mail: bool = typer.Option(
        False,
        "--mail",
        help=f"E-mail the written files as attachments to {ENV_EXPORT_MAIL_URL} (apprise "
        "mailto:// or mailtos:// URLs); the files stay written if the mail fails.",
    ),
    raw_cells: bool = typer.Option(
        False,
        "--raw-cells",
        help="Write csv text cells exactly as stored, also those a spreadsheet would run as "
        f"formulas (default: neutralised with a leading ', unless "
        f"{ENV_EXPORT_NEUTRALISE_FORMULAS}=false). Money is in cents either way.",
    ),
) -> None:
    """Export named questions from the marts to timestamped csv or parquet files, and mail
    them if asked."""
    if list_:
        list_questions()
        return
    if (name is None) == (not all_):
        fail(
            f"Name one question to export (one of {', '.join(QUESTIONS)}) or use --all, "
            "not both (--list describes them)."
        )
    if all_ and as_of is not None:
        fail("--as-of goes with one question: leave it out with --all.")
    config = project_settings()
    if mail:
        try:
            mail_urls(config.export_mail_url)  # refused before anything is written
        except MailNotDeliveredError as exc:
            fail(str(exc))
    settings = connection_settings()
    neutralise = config.export_neutralises_formulas and not raw_cells
    folder = out or config.export_dir
    try:
        if name is None:
            results = export_all(settings, folder, fmt, neutralise_formulas=neutralise)
        else:
            day = as_of.date() if as_of else None
            results = [
                export_question(
                    settings, name, folder, fmt, as_of=day, neutralise_formulas=neutralise
                )
            ]
    except (
        UnknownQuestionError,
        AsOfNotSupportedError,
        MartsNotBuiltError,
        DatabaseError,
        UnwritableFolderError,
    ) as exc:
        fail(str(exc))
    for result in results:
        # a path is printed as written: `[x]` in a folder name is not rich markup
        console.print(result.summary(), highlight=False, soft_wrap=True, markup=False)
    if mail:
        try:
            receivers = mail_files(results, config.export_mail_url)
        except MailNotDeliveredError as exc:
            fail(str(exc))
        console.print(f"mailed {len(results)} file(s) to {receivers} receiver(s)", markup=False)
