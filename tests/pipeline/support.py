"""What several end-to-end tests use: headless Chromium, and a copy of the dbt project as a
git repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
)
BROWSER_TIMEOUT_SECONDS = 90
DBT_PROJECT_FILES = ("dbt_project.yml", ".sqlfluff", "profiles.example.yml")
DBT_PROJECT_FOLDERS = ("dbt_project", "macros", "seeds", "tests/dbt")


def chromium(profile: Path, *args: str) -> str:
    """Run headless Chromium with a fresh profile; its stdout."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("Chromium is not installed: run `make browser` (make test does it first).")
    command = [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_SECONDS, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def copy_dbt_project(destination: Path) -> Path:
    """The dbt project's files (not the Python package) in `destination`, as a git repository."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in DBT_PROJECT_FILES:
        shutil.copy2(REPO_ROOT / name, destination / name)
    for folder in DBT_PROJECT_FOLDERS:
        shutil.copytree(REPO_ROOT / folder, destination / folder)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run([*git, "init", "--quiet"], cwd=destination, check=True)
    subprocess.run([*git, "add", "."], cwd=destination, check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "copy"], cwd=destination, check=True)
    return destination
