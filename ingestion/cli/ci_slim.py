"""`shopflow ci-slim`: build and test only the changed models and their children."""

from __future__ import annotations

from pathlib import Path

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.locking import WAIT, exclusive_run
from ingestion.cli.project_settings import project_settings
from ingestion.database.errors import DatabaseError
from ingestion.database.server_settings import connection_settings
from ingestion.transform.dbt_runner import DbtError
from ingestion.transform.slim_ci import (
    CI_SCHEMA_PREFIX,
    SlimCiError,
    ci_schemas,
    drop_ci_schemas,
    run_slim_ci,
)


def ci_slim(
    state: Path | None = typer.Option(
        None, "--state", help="Folder with the production manifest.json (default: the last run's)."
    ),
    base: str = typer.Option(
        "HEAD", "--base", help="Git revision the changed SQL files are compared with."
    ),
    clean: bool = typer.Option(
        False,
        "--clean",
        help=f"Drop the {CI_SCHEMA_PREFIX}_* schemas earlier runs built, and build nothing.",
    ),
    wait: float = WAIT,
) -> None:
    """Lint changed SQL, then build state:modified+ with --defer in ci_* schemas."""
    config = project_settings()
    settings = connection_settings()
    # dbt's target folder and partial-parse files are shared with `shopflow run`'s builds
    with exclusive_run(settings, "ci-slim", wait):
        try:
            if clean:
                dropped = drop_ci_schemas(settings)
                console.print(
                    f"dropped {len(dropped)} schema(s): {', '.join(dropped) or '-'}", markup=False
                )
                return
            result = run_slim_ci(settings, config, state=state, base=base)
            built_in = ci_schemas(settings)
        except (SlimCiError, DbtError, DatabaseError) as exc:
            fail(str(exc))
    # plain text, not markup: file and schema names are printed as they are
    console.print(
        f"linted {len(result.linted)} changed SQL file(s): {', '.join(result.linted)}",
        markup=False,
    )
    console.print(f"built {len(result.built)} node(s), ran {len(result.tested)} test(s)")
    if built_in:
        console.print(
            f"CI schemas: {', '.join(built_in)} (`shopflow ci-slim --clean` drops them)",
            markup=False,
        )
