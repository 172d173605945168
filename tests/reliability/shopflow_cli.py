"""Private worlds for the lock, environment and smaller-item tests, and `shopflow` run on them.

`world_env` points the CLI (in a subprocess or through typer's CliRunner) at one private
world: its databases, its landing folder, the session's server. Raw layers are compared
with ``support.warehouse_digest`` (dlt's ``_dlt_*`` ids left out).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingestion.benchmarking.cli_world import cli_environment
from ingestion.settings import ENV_HOST, ConnectionSettings
from ingestion.simulators.world.landing import write_landing_files
from tests.integration.ingest_support import IngestWorld, simulated_world
from tests.reliability.support import RAW_SCHEMAS, Digest, warehouse_digest

SHOPFLOW = str(Path(sys.executable).with_name("shopflow"))


@contextmanager
def built_world(server: ConnectionSettings, root: Path) -> Iterator[IngestWorld]:
    """A private world (seed 42, scale 0.1) with its landing files, nothing ingested yet."""
    with simulated_world(server, root) as created:
        write_landing_files(created.settings, landing=created.landing)
        yield created


def world_env(world: IngestWorld) -> dict[str, str]:
    """Environment variables that point `shopflow` at this world (and nothing else)."""
    return {**cli_environment(world.settings, world.landing.parent), "COLUMNS": "200"}


def subprocess_env(world: IngestWorld, **extra: str) -> dict[str, str]:
    """The current environment without a SHOPFLOW_PG_HOST of its own, plus the world's."""
    base = {name: value for name, value in os.environ.items() if name != ENV_HOST}
    return {**base, **world_env(world), **extra}


def start_shopflow(world: IngestWorld, *args: str, **extra_env: str) -> subprocess.Popen[str]:
    """`shopflow <args>` in a subprocess against the world; output captured as text."""
    return subprocess.Popen(
        [SHOPFLOW, *args],
        env=subprocess_env(world, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def raw_layer(world: IngestWorld) -> Digest:
    """Every raw table's row count and content hash."""
    return warehouse_digest(world.settings, RAW_SCHEMAS)
