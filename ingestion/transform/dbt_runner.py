"""Runs dbt commands in a subprocess against the configured warehouse."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

from ingestion.settings import REPO_ROOT, ConnectionSettings
from ingestion.transform.dbt_profile import dbt_environment, write_profile

log = logging.getLogger(__name__)


class DbtError(RuntimeError):
    """A dbt command exited non-zero; the message holds the end of its output."""


def target_dir(project_dir: Path = REPO_ROOT) -> Path:
    """Where dbt writes artifacts: `DBT_TARGET_PATH` if set (tests use their own), else target/."""
    configured = os.environ.get("DBT_TARGET_PATH")
    if not configured:
        return project_dir / "target"
    path = Path(configured)
    return path if path.is_absolute() else project_dir / path


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def run_dbt(
    args: list[str],
    settings: ConnectionSettings,
    project_dir: Path = REPO_ROOT,
    stream: bool = True,
    extra_env: dict[str, str] | None = None,
) -> str:
    """Run `dbt <args>` in `project_dir`; raise DbtError with the output's tail on failure."""
    write_profile(settings, project_dir / "profiles.yml")
    env = {
        **os.environ,
        **dbt_environment(settings),
        "DBT_PROFILES_DIR": str(project_dir),
        **(extra_env or {}),
    }
    command = [dbt_executable(), *args, "--project-dir", str(project_dir)]
    log.info("running %s", " ".join(command))
    process = subprocess.Popen(
        command,
        cwd=project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if stream:
            sys.stdout.write(line)
    code = process.wait()
    output = "".join(lines)
    if code != 0:
        tail = "".join(lines[-25:])
        raise DbtError(f"dbt {' '.join(args)} failed (exit {code}):\n{tail}")
    return output
