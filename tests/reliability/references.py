"""The reference worlds the reliability tests compare with (the demo built without faults),
and the private worlds `shopflow simulate all` builds for them."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingestion.settings import ConnectionSettings
from tests.integration.ingest_support import private_world
from tests.reliability.support import CliWorld, Digest

INGEST_SCALE = "0.05"
"""Worlds that are only ingested: small, so that many crash trials stay quick."""
BUILD_SCALE = "0.2"
"""Worlds that dbt builds: the pipeline tests' scale, the smallest at which every recency
test of the demo holds."""
BUILT_SCHEMAS = ("marts", "intermediate", "snapshots", "seeds")
"""The tables dbt builds (views are rebuilt from them; audit logs every run by design)."""


def output_of(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout + done.stderr


@dataclass(frozen=True)
class Reference:
    world: CliWorld
    raw: Digest
    ingest_seconds: float
    output: str
    """What the clean ingestion printed."""


@dataclass(frozen=True)
class BuiltReference:
    world: CliWorld
    raw: Digest
    built: Digest
    build_seconds: float
    output: str
    """What the whole clean `shopflow run` printed."""


def new_world(
    server: ConnectionSettings, root: Path, scale: str = INGEST_SCALE
) -> Iterator[CliWorld]:
    """A private world built by `shopflow simulate all` (seed 42), dropped afterwards."""
    with private_world(server, root) as world:
        cli_world = CliWorld(world.settings, world.landing.parent)
        done = cli_world.run("simulate", "all", "--scale", scale)
        assert done.returncode == 0, done.stdout + done.stderr
        yield cli_world
