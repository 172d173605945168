"""One entry point for "make the warehouse reachable", whichever server is configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ingestion.database import local_server
from ingestion.database.admin import admin_settings
from ingestion.database.connection import autocommit, create_database, server_version
from ingestion.database.durability import Durability, DurabilityState, choose, read_state
from ingestion.database.local_server import ServerPaths
from ingestion.database.pipeline_role import ensure_pipeline_role, warn_if_superuser
from ingestion.database.replication import LOGICAL, wal_level
from ingestion.database.roles import ensure_analyst_roles
from ingestion.database.server_settings import connection_settings, local_server_dir
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)


def local_paths() -> ServerPaths:
    return ServerPaths(local_server_dir())


@dataclass(frozen=True)
class ReadyServer:
    settings: ConnectionSettings
    started_now: bool
    created_databases: tuple[str, ...]
    version: str
    analyst_roles: bool
    durability: DurabilityState | None
    """The local server's durability mode (None for an external server: not ours to say)."""
    superuser: bool
    """Whether the pipeline connects as a superuser (only an external server's user can)."""


def ensure_ready(
    settings: ConnectionSettings | None = None, durability: Durability | None = None
) -> ReadyServer:
    """Start the local server if it is the configured one, make its pipeline role a plain
    owner (``pipeline_role``), then make sure both databases and the read-only analyst roles
    exist (``roles``). ``durability`` switches the local server's mode; None leaves it as
    it is (a new server is durable).

    With an external server nothing is started: it is only checked and the databases created;
    the roles are created if the server allows it.
    """
    settings = settings or connection_settings()
    if settings.external:
        return _provision(settings, started=False, superuser=warn_if_superuser(settings))
    with local_server.exclusive(local_paths()):  # commands started together take turns
        started = local_server.start(local_paths(), settings)
        ensure_pipeline_role(settings)  # first: an older server's administrator is made here
        started = _restart_for_logical_decoding(settings) or started
        ready = _provision(settings, started, superuser=False)
        admin = admin_settings(settings)
        state = choose(admin, durability) if durability else read_state(admin)
    return replace(ready, durability=state)


def _provision(settings: ConnectionSettings, started: bool, superuser: bool) -> ReadyServer:
    """Both databases and the analyst roles, each safe when another command does the same at
    the same moment (an external server has no file lock of ours)."""
    created = tuple(
        name
        for name in (settings.database, settings.ops_database)
        if create_database(settings, name)
    )
    for name in created:
        log.info("created database %s", name)
    roles = ensure_analyst_roles(settings)
    return ReadyServer(settings, started, created, server_version(settings), roles, None, superuser)


def _restart_for_logical_decoding(settings: ConnectionSettings) -> bool:
    """Restart the local server once if it runs without ``wal_level=logical`` (a server
    started by an older version of the project); True when it was restarted."""
    with autocommit(settings, "postgres") as cursor:
        level = wal_level(cursor)
    if level == LOGICAL:
        return False
    log.warning(
        "restarting the local server once: it runs with wal_level=%s, and the operations "
        "database is read from its log (change data capture), which needs wal_level=logical",
        level,
    )
    local_server.stop(local_paths())
    return local_server.start(local_paths(), settings)


def stop_local() -> bool:
    with local_server.exclusive(local_paths()):
        return local_server.stop(local_paths())


def local_status() -> local_server.ServerStatus:
    return local_server.status(local_paths())
