"""Small dbt projects that tests write to a temporary folder to prove the repo's macros: the
project's files (with a copy of the repo's `macros/`), and dbt run in it with its own target/."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from ingestion.settings import REPO_ROOT, ConnectionSettings, Settings
from ingestion.transform.dbt_runner import DbtError, run_dbt

log = logging.getLogger(__name__)


def proof_project_yml(name: str, settings: str) -> str:
    """A `dbt_project.yml` for a proof project named ``name``: the repo's macros copied under
    `macros/`, the shopflow profile, the hooks that store results in `audit.dbt_results`,
    then ``settings`` (YAML for `vars:`, `seeds:`, `models:` ...)."""
    return (
        f"name: {name}\n"
        'version: "1.0.0"\n'
        "config-version: 2\n"
        "profile: shopflow\n"
        'macro-paths: ["macros"]\n'
        'seed-paths: ["seeds"]\n'
        'model-paths: ["models"]\n'
        "target-path: target\n"
        "on-run-start:\n"
        '  - "{% do create_dbt_results_table() %}"\n'
        "on-run-end:\n"
        '  - "{{ store_run_results(results) }}"\n'
        f"{settings}"
        "flags:\n"
        "  send_anonymous_usage_stats: false\n"
    )


def write_proof_project(root: Path, name: str, files: dict[str, str]) -> Path:
    """Write the proof project ``name`` under `root`: a copy of the repo's macros, then every
    file of ``files`` (a path inside the project -> its text); return the project's folder."""
    project = root / name
    shutil.copytree(REPO_ROOT / "macros", project / "macros")
    for path, text in files.items():
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
    (project / "models").mkdir(exist_ok=True)
    return project


def own_target(project: Path) -> dict[str, str]:
    """The proof project keeps its own target/, whatever DBT_TARGET_PATH other tests set."""
    return {"DBT_TARGET_PATH": str(project / "target")}


def dbt_with_failing_tests(args: list[str], project: Path, warehouse: ConnectionSettings) -> Path:
    """`dbt <args>` in the proof project, where failing tests are the point: dbt's exit 1 is
    logged, not raised. Returns the run_results.json it wrote (which must exist)."""
    run_results = project / "target" / "run_results.json"
    run_results.unlink(missing_ok=True)
    try:
        run_dbt(
            args,
            warehouse,
            Settings.from_environment(),
            project_dir=project,
            stream=False,
            extra_env=own_target(project),
        )
    except DbtError as exc:
        log.info("dbt %s exited non-zero, as expected: %s", args[0], str(exc).splitlines()[0])
    assert run_results.exists(), f"dbt {' '.join(args)} did not get as far as running anything"
    return run_results
