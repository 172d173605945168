"""Shared set-up of the ingestion integration tests: a private world and warehouse per module.

Each test module gets its own throwaway warehouse + operations databases (so building and
ticking the world never disturbs other suites), its own landing folder and its own dlt
state folder (removed afterwards).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from ingestion.database.connection import autocommit, create_database, drop_database
from ingestion.loading.registry import IngestContext, StorefrontEndpoint
from ingestion.loading.runner import IngestReport, ingest
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ConnectionSettings, Settings
from ingestion.simulators.world.build import build_world

SCALE = 0.1


@dataclass(frozen=True)
class IngestWorld:
    """A private pair of databases and a landing folder."""

    settings: ConnectionSettings
    landing: Path

    def context(
        self, endpoint: StorefrontEndpoint | None = None, ops_capture: str | None = None
    ) -> IngestContext:
        """The ingestion context for this world: the settings in force, its own landing, and
        ``ops_capture`` (``cdc`` or ``cursor``) when given."""
        config = replace(Settings.from_environment(), landing_dir=self.landing)
        if ops_capture is not None:
            config = replace(config, ops_capture=ops_capture)
        return IngestContext(settings=self.settings, config=config, storefront=endpoint)

    def ingest(
        self,
        *sources: str,
        endpoint: StorefrontEndpoint | None = None,
        ops_capture: str | None = None,
    ) -> IngestReport:
        """Run `shopflow ingest` for the sources against this world (the operations database
        read as ``ops_capture`` says, else as the environment does)."""
        return ingest(list(sources), self.context(endpoint, ops_capture), run_id=fresh_run_id())

    def query(self, statement: str, ops: bool = False) -> list[tuple]:
        """Rows of one query on the warehouse (or the operations DB)."""
        database = self.settings.ops_database if ops else self.settings.database
        with autocommit(self.settings, database) as cursor:
            cursor.execute(statement)
            return list(cursor.fetchall())

    def scalar(self, statement: str, ops: bool = False) -> object:
        """The single value of one query."""
        return self.query(statement, ops)[0][0]

    def table_digest(self, table: str) -> tuple[int, str]:
        """Row count and an order-independent digest of every column of a raw table."""
        row = self.query(
            f"select count(*), coalesce(md5(string_agg(md5(t::text), '' order by md5(t::text))),"
            f" '') from {table} as t"
        )[0]
        return int(row[0]), str(row[1])


def fresh_run_id() -> str:
    """A run id of its own for one ingestion a test runs (the CLI mints them for commands)."""
    return f"test-{uuid.uuid4().hex[:12]}"


@contextmanager
def private_world(
    server: ConnectionSettings, tmp_root: Path, prefix: str = "shopflow_ingest_"
) -> Iterator[IngestWorld]:
    """Create the databases and folders of one world; drop and remove them afterwards.

    Their names are ``prefix`` plus a random suffix (``_ops`` added for the operations DB).
    """
    suffix = uuid.uuid4().hex[:8]
    settings = server.with_databases(f"{prefix}{suffix}", f"{prefix}{suffix}_ops")
    create_database(settings, settings.database)
    create_database(settings, settings.ops_database)
    landing = tmp_root / "data" / "landing"
    landing.mkdir(parents=True)
    try:
        yield IngestWorld(settings, landing)
    finally:
        drop_database(settings, settings.database)
        drop_database(settings, settings.ops_database)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)


@contextmanager
def simulated_world(
    server: ConnectionSettings, tmp_root: Path, scale: float = SCALE
) -> Iterator[IngestWorld]:
    """A private world whose operations DB holds the simulated sources (seed 42), built once."""
    with private_world(server, tmp_root) as world:
        build_world(world.settings, scale=scale)
        yield world
