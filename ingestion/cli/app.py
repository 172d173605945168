"""The `shopflow` command: one CLI for the database, simulators, ingestion and dbt."""

from __future__ import annotations

import typer

from ingestion.cli import db, simulate
from ingestion.cli.ci_slim import ci_slim
from ingestion.cli.console import configure_logging, fail
from ingestion.cli.export import export
from ingestion.cli.ingest import ingest
from ingestion.cli.report import report
from ingestion.cli.run import retry, run
from ingestion.cli.status import status
from ingestion.quality.cli import check_project
from ingestion.settings import SettingsError, check_environment

app = typer.Typer(
    help="ShopFlow Analytics: run and operate the ELT pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(simulate.app, name="simulate")
app.command()(ingest)
app.command()(run)
app.command()(retry)
app.command(name="ci-slim")(ci_slim)
app.command(name="check-project")(check_project)
app.command()(status)
app.command()(report)
app.command()(export)


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show debug logging."),
) -> None:
    configure_logging(verbose)
    try:
        check_environment()
    except SettingsError as exc:
        fail(str(exc))


def main() -> None:
    app()
