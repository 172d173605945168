"""`shopflow check-project`: the project rules (project_rules.py) as a command."""

from __future__ import annotations

import logging
from pathlib import Path

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.conventions.project_rules import RULES, Violation, check_manifest, load_manifest
from ingestion.database.server_settings import connection_settings
from ingestion.transform.dbt_runner import DbtError, run_dbt, target_dir

log = logging.getLogger(__name__)


def print_violations(violations: list[Violation]) -> None:
    """Each resource once, then its broken rules, each with the problem and how to fix it."""
    previous = None
    for violation in violations:
        if violation.resource != previous:
            console.print(f"\n[bold]{violation.resource}[/] [dim]{violation.path}[/]")
            previous = violation.resource
        console.print(f"  [red]x {violation.rule}[/]: {violation.problem}", highlight=False)
        console.print(f"    fix: {violation.fix}", highlight=False, markup=False)


def check_project(
    manifest: Path | None = typer.Option(
        None,
        "--manifest",
        help="Check this manifest.json as it is instead of running `dbt parse` first.",
        exists=True,
        dir_okay=False,
    ),
) -> None:
    """Check dbt's project rules (descriptions, keys, naming, layering, contracts, freshness)."""
    if manifest is None:
        try:
            run_dbt(["parse", "--quiet"], connection_settings(), project_settings(), stream=False)
        except DbtError as exc:
            fail(str(exc))
        manifest = target_dir() / "manifest.json"  # where that parse wrote it (DBT_TARGET_PATH)
    violations = check_manifest(load_manifest(manifest))
    if not violations:
        console.print(f"[green]project rules: all {len(RULES)} rules hold[/] ({manifest}).")
        return
    print_violations(violations)
    resources = len({violation.resource for violation in violations})
    fail(f"{len(violations)} project-rule violations in {resources} resources.")
