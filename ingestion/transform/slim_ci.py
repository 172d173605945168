"""Slim CI for analysts: build only what changed (and its children), deferring to production.

`shopflow run` publishes the manifest of each successful production build. `shopflow
ci-slim` then builds `state:modified+` with `--defer` against it, in schemas prefixed
`ci_` (so production tables are never overwritten), and lints only the changed SQL files.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.settings import ENV_SCHEMA_PREFIX, REPO_ROOT, ConnectionSettings, Settings, state_dir
from ingestion.transform.dbt_profile import dbt_environment, write_profile
from ingestion.transform.dbt_runner import run_dbt, target_dir

log = logging.getLogger(__name__)

SQL_FOLDERS = ("dbt_project/", "tests/dbt/")
CI_SCHEMA_PREFIX = "ci"


class SlimCiError(RuntimeError):
    """Slim CI cannot run; the message says what to do."""


@dataclass(frozen=True)
class SlimCiResult:
    built: list[str]
    """unique ids of the models, seeds and snapshots that were built"""
    tested: list[str]
    linted: list[str]


def production_state_dir(settings: ConnectionSettings) -> Path:
    """Where the production manifest of this warehouse database is kept."""
    return state_dir() / "dbt-state" / settings.database


def publish_production_state(settings: ConnectionSettings, project_dir: Path = REPO_ROOT) -> Path:
    """Keep the manifest of the build that just succeeded as the production state."""
    manifest = target_dir(project_dir) / "manifest.json"
    destination = production_state_dir(settings)
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(manifest, destination / "manifest.json")
    return destination


def _git(project_dir: Path, *args: str) -> list[str]:
    result = subprocess.run(
        ["git", *args], cwd=project_dir, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SlimCiError(f"git {' '.join(args)} failed in {project_dir}: {result.stderr.strip()}")
    return [line for line in result.stdout.splitlines() if line]


def changed_sql_files(project_dir: Path, base: str) -> list[str]:
    """SQL files under the dbt folders that differ from `base` or are new (untracked)."""
    changed = _git(project_dir, "diff", "--name-only", base, "--")
    untracked = _git(project_dir, "ls-files", "--others", "--exclude-standard")
    return sorted(
        {
            name
            for name in [*changed, *untracked]
            if name.endswith(".sql")
            and name.startswith(SQL_FOLDERS)
            and (project_dir / name).exists()
        }
    )


@dataclass(frozen=True)
class LintProblem:
    """One problem sqlfluff found, printed the way editors and CI logs link to a place."""

    file: str
    line: int
    column: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.rule} {self.message}"


def parse_lint_report(report: str) -> list[LintProblem] | None:
    """The problems in sqlfluff's `--format json` report (warnings, which do not fail the
    lint, left out); None when `report` holds no such report (sqlfluff itself failed)."""
    # the report is the last line: the dbt templater may log before it
    lines = [line for line in report.splitlines() if line.startswith("[")]
    try:
        files = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        files = None
    if not isinstance(files, list):
        return None
    return [
        LintProblem(
            file=entry["filepath"],
            line=violation.get("start_line_no", 0),
            column=violation.get("start_line_pos", 0),
            rule=violation.get("code", "?"),
            message=violation.get("description", ""),
        )
        for entry in files
        for violation in entry.get("violations", [])
        if not violation.get("warning", False)
    ]


def lint_failure_message(problems: list[LintProblem]) -> str:
    """What a person reads when the lint fails: each problem on its line, then the fix."""
    files = sorted({problem.file for problem in problems})
    return "\n".join(
        [
            f"sqlfluff found {len(problems)} problem(s) in the changed SQL files:",
            *(str(problem) for problem in problems),
            f"Fix what sqlfluff can itself with: sqlfluff fix {' '.join(files)}",
        ]
    )


def lint(
    project_dir: Path, files: list[str], settings: ConnectionSettings, config: Settings
) -> None:
    if not files:
        return
    # sqlfluff's dbt templater compiles the project: it needs the profile and its variables
    write_profile(settings, project_dir / "profiles.yml")
    sqlfluff = Path(sys.executable).with_name("sqlfluff")
    result = subprocess.run(
        [str(sqlfluff), "lint", "--format", "json", *files],
        cwd=project_dir,
        capture_output=True,
        text=True,
        env={**os.environ, **dbt_environment(settings, config)},
    )
    if result.returncode == 0:
        return
    problems = parse_lint_report(result.stdout)
    if not problems:
        raise SlimCiError(
            f"sqlfluff could not lint the changed files (exit code {result.returncode}):\n"
            f"{result.stdout}{result.stderr}".rstrip()
        )
    raise SlimCiError(lint_failure_message(problems))


def ci_schemas(settings: ConnectionSettings) -> list[str]:
    """The schemas slim CI built in the warehouse (`ci_<layer>`)."""
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            "select nspname from pg_namespace where nspname like %s order by nspname",
            (f"{CI_SCHEMA_PREFIX}\\_%",),
        )
        return [name for (name,) in cursor.fetchall()]


def drop_ci_schemas(settings: ConnectionSettings) -> list[str]:
    """Drop what slim CI built (production's schemas are never touched); the names dropped."""
    schemas = ci_schemas(settings)
    with autocommit(settings, settings.database) as cursor:
        for schema in schemas:
            cursor.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    log.info("dropped slim CI schemas: %s", schemas or "none")
    return schemas


def run_slim_ci(
    settings: ConnectionSettings,
    config: Settings,
    project_dir: Path = REPO_ROOT,
    state: Path | None = None,
    base: str = "HEAD",
) -> SlimCiResult:
    """Lint the changed SQL, then build `state:modified+` deferring to the production state."""
    state = state or production_state_dir(settings)
    if not (state / "manifest.json").exists():
        raise SlimCiError(
            f"No production manifest in {state}. Run `shopflow run` first (it publishes one "
            "after a successful build) or pass --state <folder with manifest.json>."
        )
    files = changed_sql_files(project_dir, base)
    log.info("changed SQL files: %s", files or "none")
    lint(project_dir, files, settings, config)
    # the hooks' results table goes to ci_audit too: a CI build is not production's last build
    ci_vars = json.dumps({"dbt_results_schema": f"{CI_SCHEMA_PREFIX}_audit"})
    run_dbt(
        [
            # from scratch: an incremental model left in a ci_* schema by an earlier check
            # would otherwise keep rows the changed code no longer computes
            *("build", "--select", "state:modified+", "--defer", "--state", str(state)),
            "--full-refresh",
            *("--vars", ci_vars),
        ],
        settings,
        config,
        project_dir=project_dir,
        extra_env={ENV_SCHEMA_PREFIX: CI_SCHEMA_PREFIX},
    )
    results = json.loads((target_dir(project_dir) / "run_results.json").read_text())["results"]
    ids = [r["unique_id"] for r in results]
    return SlimCiResult(
        built=[i for i in ids if i.startswith(("model.", "seed.", "snapshot."))],
        tested=[i for i in ids if i.startswith(("test.", "unit_test."))],
        linted=files,
    )
