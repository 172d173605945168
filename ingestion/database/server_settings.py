"""The connection settings in force: the external server the variables name, or the local
one, found through its record (``server_record``) and reached with its generated password
(``local_credentials``). Resolved once by a command, beside ``ingestion.settings.Settings``,
and passed down as ``ConnectionSettings``."""

from __future__ import annotations

from pathlib import Path

from ingestion.database import server_record
from ingestion.database.local_credentials import local_password
from ingestion.settings import (
    DEFAULT_DATABASE,
    DEFAULT_EXTERNAL_PORT,
    DEFAULT_LOCAL_HOST,
    DEFAULT_LOCAL_PORT,
    DEFAULT_OPS_DATABASE,
    DEFAULT_USER,
    ENV_DATABASE,
    ENV_HOST,
    ENV_OPS_DATABASE,
    ENV_USER,
    LOCAL_SERVER_FOLDER,
    ConnectionSettings,
    configured_password,
    explicit_port,
    read_variable,
    state_dir,
)


def local_server_dir() -> Path:
    """The local server's folder in the state folder: data, log, and its record."""
    return state_dir() / LOCAL_SERVER_FOLDER


def local_server_record_file() -> Path:
    return local_server_dir() / server_record.RECORD_FILE_NAME


def running_local_server() -> server_record.ServerRecord | None:
    """What the running local server was started with, or None when none runs (or unknown)."""
    return server_record.read_running(local_server_record_file())


def connection_settings() -> ConnectionSettings:
    """The connection settings in force: the external server if configured, else the local one
    (on ``SHOPFLOW_PG_PORT`` if set, else on the port the running local server was started
    with, else on the default)."""
    database = read_variable(ENV_DATABASE) or DEFAULT_DATABASE
    ops_database = read_variable(ENV_OPS_DATABASE) or DEFAULT_OPS_DATABASE
    user = read_variable(ENV_USER) or DEFAULT_USER
    host = read_variable(ENV_HOST)
    port = explicit_port()
    password = configured_password()
    if host:
        return ConnectionSettings(
            host=host,
            port=port or DEFAULT_EXTERNAL_PORT,
            user=user,
            password=password or "",
            database=database,
            ops_database=ops_database,
            external=True,
        )
    running = running_local_server() if port is None else None
    return ConnectionSettings(
        host=running.host if running else DEFAULT_LOCAL_HOST,
        port=port or (running.port if running else DEFAULT_LOCAL_PORT),
        user=user,
        password=password or local_password(),
        database=database,
        ops_database=ops_database,
        external=False,
    )
