"""A throwaway world on the configured server, and `shopflow` run on it as a user runs it.

``throwaway_world`` creates a warehouse and an operations database with unique names (so
dlt's local state folder, keyed by the warehouse name, is new too) and a folder for the
landing zone and dbt's artifacts; afterwards it drops the databases and removes the folder
and the local state kept per warehouse database, also when the block fails.

``CliWorld.run`` starts `shopflow <args>` in a subprocess pointed at the world, times it,
reads the stage seconds from the run's summary table and samples the memory of its process
tree (see ``memory``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ingestion.benchmarking.memory import ProcessTreeMemory, sampling_memory
from ingestion.database.connection import autocommit, create_database, drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import (
    ENV_DATABASE,
    ENV_DBT_TARGET_PATH,
    ENV_EXPORT_DIR,
    ENV_HOST,
    ENV_LANDING_DIR,
    ENV_OPS_DATABASE,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_REPORT_DIR,
    ENV_USER,
    ConnectionSettings,
)
from ingestion.stage_runner.warehouse_removal import drop_warehouse

log = logging.getLogger(__name__)

SHOPFLOW = str(Path(sys.executable).with_name("shopflow"))
OUTPUT_COLUMNS = "200"
"""Terminal width for the run's output, so the summary table's rows stay on one line each."""
OUTPUT_TAIL_LINES = 30


class CliRunError(RuntimeError):
    """`shopflow` exited non-zero; the message holds the end of its output."""


def cli_environment(settings: ConnectionSettings, folder: Path) -> dict[str, str]:
    """Environment variables that point `shopflow` at these databases and this folder."""
    return {
        ENV_PORT: str(settings.port),
        ENV_USER: settings.user,
        ENV_PASSWORD: settings.password,
        ENV_DATABASE: settings.database,
        ENV_OPS_DATABASE: settings.ops_database,
        **({ENV_HOST: settings.host} if settings.external else {}),
        ENV_LANDING_DIR: str(folder / "landing"),
        ENV_EXPORT_DIR: str(folder / "exports"),
        ENV_REPORT_DIR: str(folder / "reports"),
        ENV_DBT_TARGET_PATH: str(folder / "dbt-target"),
        "DBT_LOG_PATH": str(folder / "dbt-logs"),
    }


@dataclass(frozen=True)
class CliRun:
    """One finished `shopflow` command."""

    args: tuple[str, ...]
    seconds: float
    """Wall-clock seconds from start to exit."""
    stages: dict[str, float]
    """Seconds per stage, from the run's summary table (empty for other commands)."""
    memory: ProcessTreeMemory
    output: str


def stage_seconds(output: str) -> dict[str, float]:
    """Seconds per stage from `shopflow run`'s summary table (rows ``│ stage │ status │ s │``)."""
    stages: dict[str, float] = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.split("│")[1:-1]]
        if len(cells) != 4 or not cells[0]:
            continue
        try:
            stages[cells[0]] = float(cells[2])
        except ValueError:
            continue  # the header row
    return stages


@dataclass(frozen=True)
class CliWorld:
    """A throwaway pair of databases and a folder for the landing zone and dbt's artifacts."""

    settings: ConnectionSettings
    folder: Path

    def environment(self) -> dict[str, str]:
        """The caller's environment without a server of its own, pointed at this world."""
        base = {name: value for name, value in os.environ.items() if name != ENV_HOST}
        return {
            **base,
            **cli_environment(self.settings, self.folder),
            "COLUMNS": OUTPUT_COLUMNS,
        }

    def run(self, *args: str) -> CliRun:
        """`shopflow <args>` in a subprocess; raises ``CliRunError`` if it fails."""
        log.info("shopflow %s (%s)", " ".join(args), self.settings.database)
        started = time.perf_counter()
        process = subprocess.Popen(
            [SHOPFLOW, *args],
            env=self.environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        with sampling_memory(process.pid) as memory:
            output, _ = process.communicate()
        seconds = time.perf_counter() - started
        if process.returncode != 0:
            tail = "\n".join(output.splitlines()[-OUTPUT_TAIL_LINES:])
            raise CliRunError(
                f"shopflow {' '.join(args)} failed (exit {process.returncode}):\n{tail}"
            )
        return CliRun(args, seconds, stage_seconds(output), memory.result(), output)

    def query(self, statement: str, params: tuple[object, ...] | None = None) -> list[tuple]:
        """The rows of one query on the warehouse."""
        with autocommit(self.settings, self.settings.database) as cursor:
            cursor.execute(statement, params)
            return list(cursor.fetchall())


@contextmanager
def extra_warehouse(settings: ConnectionSettings, database: str) -> Iterator[ConnectionSettings]:
    """Another warehouse database (``database``) beside ``settings``' operations DB, dropped
    afterwards with dlt's local state for it, also on failure."""
    other = settings.with_databases(database, settings.ops_database)
    create_database(other, other.database)
    try:
        yield other
    finally:
        drop_database(other, other.database)
        shutil.rmtree(pipelines_dir(other), ignore_errors=True)


@contextmanager
def throwaway_world(
    server: ConnectionSettings, workdir: Path, prefix: str = "shopflow_scale_"
) -> Iterator[CliWorld]:
    """Create a world's databases and folder under ``workdir``; remove all of it afterwards."""
    suffix = uuid.uuid4().hex[:8]
    settings = server.with_databases(f"{prefix}{suffix}", f"{prefix}{suffix}_ops")
    folder = workdir / settings.database
    folder.mkdir(parents=True)
    try:
        create_database(settings, settings.database)
        create_database(settings, settings.ops_database)
        yield CliWorld(settings, folder)
    finally:
        drop_warehouse(settings)
        shutil.rmtree(folder, ignore_errors=True)
        log.info("dropped %s and its _ops database, removed %s", settings.database, folder)
