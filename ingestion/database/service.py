"""One entry point for "make the warehouse reachable", whichever server is configured."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ingestion.database import local_server
from ingestion.database.connection import create_database, server_version
from ingestion.database.local_server import ServerPaths
from ingestion.database.roles import ensure_analyst_roles
from ingestion.settings import ConnectionSettings, connection_settings, local_server_dir

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


def ensure_ready(settings: ConnectionSettings | None = None) -> ReadyServer:
    """Start the local server if it is the configured one, then make sure both databases and
    the read-only analyst roles exist (``roles``).

    With an external server nothing is started: it is only checked and the databases created;
    the roles are created if the server allows it.
    """
    settings = settings or connection_settings()
    started = False
    if not settings.external:
        started = local_server.start(local_paths(), settings)
    created = tuple(
        name
        for name in (settings.database, settings.ops_database)
        if create_database(settings, name)
    )
    for name in created:
        log.info("created database %s", name)
    roles = ensure_analyst_roles(settings)
    return ReadyServer(settings, started, created, server_version(settings), roles)


def stop_local() -> bool:
    return local_server.stop(local_paths())


def local_status() -> local_server.ServerStatus:
    return local_server.status(local_paths())
