"""Runs dbt commands in a subprocess against the configured warehouse."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from ingestion.interrupts import child_process_options, stop_process_group
from ingestion.settings import (
    DEFAULT_TARGET,
    ENV_DBT_PROFILES_DIR,
    REPO_ROOT,
    ConnectionSettings,
    Settings,
    dbt_target_path,
)
from ingestion.transform.dbt_profile import DECIDED_VARIABLES, dbt_environment, write_profile
from ingestion.transform.run_results import RunResults, error_lines, plain, read_run_results

log = logging.getLogger(__name__)


class DbtError(RuntimeError):
    """A dbt command exited non-zero. The message is one sentence: the failing nodes and their
    messages from the invocation's run results, or (when dbt stopped before running a node) the
    error it printed. ``results`` and ``output`` keep the rest for callers that need it."""

    def __init__(self, message: str, results: RunResults | None = None, output: str = "") -> None:
        super().__init__(message)
        self.results = results
        self.output = output

    @property
    def invocation_id(self) -> str | None:
        """The failed invocation's id (None when dbt wrote no run results)."""
        return self.results.invocation_id if self.results is not None else None


def target_dir(project_dir: Path = REPO_ROOT, environment: Mapping[str, str] | None = None) -> Path:
    """Where dbt writes artifacts: `DBT_TARGET_PATH` if set (tests use their own), else target/."""
    configured = dbt_target_path(environment)
    if not configured:
        return project_dir / "target"
    path = Path(configured)
    return path if path.is_absolute() else project_dir / path


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def target_args(target: str) -> list[str]:
    """dbt's `--target` for a profile output: `spark`, or nothing for the profile's default
    (`dev`, Postgres). dbt counts its `--target` argument in the check that decides whether
    it may parse only what changed: passing the default explicitly would make every plain
    `dbt show` after a command of ours parse the whole project again."""
    return [] if target == DEFAULT_TARGET else ["--target", target]


def run_dbt(
    args: list[str],
    settings: ConnectionSettings,
    config: Settings,
    project_dir: Path = REPO_ROOT,
    stream: bool = True,
    extra_env: dict[str, str] | None = None,
    target: str | None = None,
) -> str:
    """Run `dbt <args>` in `project_dir` on `target` (default: the settings' target,
    ``SHOPFLOW_TARGET``) and return its output; raise DbtError on failure.

    dbt prints colours only when our standard output is a terminal, so a log file or a cron
    mail never holds escape codes. dbt never outlives the call: anything that ends it early (a
    signal's ``RunInterrupted``, an error) stops dbt's process group first, and the kernel
    kills dbt should this process be killed outright."""
    write_profile(settings, project_dir / "profiles.yml")
    env = {
        **{name: value for name, value in os.environ.items() if name not in DECIDED_VARIABLES},
        **dbt_environment(settings, config),
        ENV_DBT_PROFILES_DIR: str(project_dir),
        **(extra_env or {}),
    }
    colours = ["--use-colors"] if sys.stdout.isatty() else ["--no-use-colors"]
    command = [
        dbt_executable(),
        *colours,
        *args,
        *target_args(target or config.target),
        "--project-dir",
        str(project_dir),
    ]
    started = time.time()
    log.info("running %s", " ".join(command))
    process = subprocess.Popen(
        command,
        cwd=project_dir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **child_process_options(),
    )
    lines: list[str] = []
    assert process.stdout is not None
    try:
        for line in process.stdout:
            lines.append(line)
            if stream:  # without dbt's trailing spaces (its blank lines are "12:00:01  ")
                sys.stdout.write(line.rstrip() + "\n")
        code = process.wait()
    except BaseException:
        log.warning("stopping dbt (pid %s) before leaving", process.pid)
        stop_process_group(process)
        raise
    finally:
        process.stdout.close()
    output = plain("".join(lines))
    if code != 0:
        results = fresh_run_results(target_dir(project_dir, env), since=started)
        cause = (results.failure_sentence() if results else "") or error_lines(output)
        raise DbtError(f"dbt {args[0]} failed: {cause}", results, output)
    return output


def fresh_run_results(target: Path, since: float) -> RunResults | None:
    """The run results in ``target`` if written after ``since`` (a Unix time), else None: a
    file left by an earlier invocation is never taken for this one's."""
    path = target / "run_results.json"
    try:
        if path.stat().st_mtime < since:
            return None
    except OSError:
        return None
    return read_run_results(target)
