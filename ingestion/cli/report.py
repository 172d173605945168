"""`shopflow report`: write the static HTML report of the marts and data quality."""

from __future__ import annotations

from pathlib import Path

import typer

from ingestion.atomic_write import UnwritableFolderError
from ingestion.cli.console import console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.database.errors import DatabaseError, WarehouseNotBuiltError
from ingestion.database.server_settings import connection_settings
from ingestion.reporting import summary_line, write_report
from ingestion.settings import ENV_SCHEMA_PREFIX


def report(
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Folder to write index.html into (default: $SHOPFLOW_REPORT_DIR, else reports/).",
        show_default=False,
    ),
    schema_prefix: str = typer.Option(
        "",
        "--schema-prefix",
        envvar=ENV_SCHEMA_PREFIX,
        help="Read the `<prefix>_marts` and `<prefix>_audit` schemas (as slim CI builds them).",
    ),
) -> None:
    """Write a self-contained HTML report (default reports/index.html): revenue, funnel,
    categories, open orders and data quality, as charts with their figures."""
    try:
        path = write_report(
            connection_settings(), out or project_settings().report_dir, schema_prefix=schema_prefix
        )
    except (WarehouseNotBuiltError, DatabaseError, UnwritableFolderError) as exc:
        fail(str(exc))
    # a path is printed as written: `[x]` in a folder name is not rich markup
    console.print(f"Wrote {summary_line(path)}", markup=False, highlight=False, soft_wrap=True)
