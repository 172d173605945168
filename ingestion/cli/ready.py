"""The server a command needs: running (the local one started if need be), or a plain exit."""

from __future__ import annotations

from ingestion.cli.console import fail
from ingestion.database import service
from ingestion.database.errors import DatabaseError
from ingestion.database.service import ReadyServer
from ingestion.settings import ConnectionSettings


def ready_server() -> ReadyServer:
    """The server in force, started if it is the local one and stopped; a database error
    leaves the command with its one-sentence message and exit code 1."""
    try:
        return service.ensure_ready()
    except DatabaseError as exc:
        fail(str(exc))


def ready_settings() -> ConnectionSettings:
    """The connection settings of the ready server (see ``ready_server``)."""
    return ready_server().settings
