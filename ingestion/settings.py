"""Where things live and how to reach the warehouse, read from the environment.

Every setting has one environment variable. When ``SHOPFLOW_PG_HOST`` is set the project
talks to that external Postgres server and starts nothing; otherwise it uses the local
embedded server that ``shopflow db start`` runs under ``.shopflow/``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

REPO_ROOT = Path(__file__).resolve().parents[1]

ENV_HOST = "SHOPFLOW_PG_HOST"
ENV_PORT = "SHOPFLOW_PG_PORT"
ENV_USER = "SHOPFLOW_PG_USER"
ENV_PASSWORD = "SHOPFLOW_PG_PASSWORD"
ENV_DATABASE = "SHOPFLOW_PG_DATABASE"
ENV_OPS_DATABASE = "SHOPFLOW_PG_OPS_DATABASE"
ENV_HOME = "SHOPFLOW_HOME"

DEFAULT_LOCAL_HOST = "127.0.0.1"
DEFAULT_LOCAL_PORT = 54329
DEFAULT_USER = "shopflow"
DEFAULT_DATABASE = "shopflow"
DEFAULT_OPS_DATABASE = "shopflow_ops"


def state_dir() -> Path:
    """The git-ignored folder holding local state (database files, credentials, logs)."""
    return Path(os.environ.get(ENV_HOME, REPO_ROOT / ".shopflow")).resolve()


ENV_EXPORT_DIR = "SHOPFLOW_EXPORT_DIR"
ENV_REPORT_DIR = "SHOPFLOW_REPORT_DIR"


def export_dir() -> Path:
    """Where `shopflow export` and the run's export stage write their files (git-ignored)."""
    return Path(os.environ.get(ENV_EXPORT_DIR) or REPO_ROOT / "exports").resolve()


def report_dir() -> Path:
    """Where `shopflow report` and the run's report stage write index.html (git-ignored)."""
    return Path(os.environ.get(ENV_REPORT_DIR) or REPO_ROOT / "reports").resolve()


def landing_dir() -> Path:
    """The landing zone where source files are dropped (git-ignored)."""
    return Path(os.environ.get("SHOPFLOW_LANDING_DIR", REPO_ROOT / "data" / "landing")).resolve()


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach the Postgres server that holds the warehouse and the operations DB."""

    host: str
    port: int
    user: str
    password: str
    database: str
    ops_database: str
    external: bool

    def url(self, database: str | None = None) -> str:
        """A libpq URL (``postgresql://user:password@host:port/db``) for one database."""
        db = database or self.database
        return (
            f"postgresql://{quote(self.user, safe='')}:{quote(self.password, safe='')}"
            f"@{self.host}:{self.port}/{quote(db, safe='')}"
        )

    @property
    def warehouse_url(self) -> str:
        return self.url(self.database)

    @property
    def ops_url(self) -> str:
        return self.url(self.ops_database)

    def with_databases(self, database: str, ops_database: str) -> ConnectionSettings:
        return replace(self, database=database, ops_database=ops_database)


class SettingsError(ValueError):
    """An environment variable holds a value that cannot work; the message says which and why."""


def _port_from_env(default: int) -> int:
    raw = os.environ.get(ENV_PORT)
    if raw is None or raw.strip() == "":
        return default
    try:
        port = int(raw.strip())
    except ValueError:
        raise SettingsError(
            f"{ENV_PORT}={raw!r} is not a port number: set it to a number from 1 to 65535 "
            f"(or unset it for the default, {DEFAULT_LOCAL_PORT} locally, 5432 external)."
        ) from None
    if not 0 < port < 65536:
        raise SettingsError(
            f"{ENV_PORT}={port} is outside 1-65535: set it to the port the server listens on "
            f"(or unset it for the default, {DEFAULT_LOCAL_PORT} locally, 5432 external)."
        )
    return port


def check_environment() -> None:
    """Raise ``SettingsError`` if a variable cannot be used, before any command starts work."""
    _port_from_env(5432 if os.environ.get(ENV_HOST) else DEFAULT_LOCAL_PORT)


def credentials_file() -> Path:
    return state_dir() / "credentials.json"


def local_password() -> str:
    """The local server's password: generated once, kept in the git-ignored state folder."""
    path = credentials_file()
    if path.exists():
        return str(json.loads(path.read_text())["password"])
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    path.write_text(json.dumps({"password": password}))
    path.chmod(0o600)
    return password


def connection_settings() -> ConnectionSettings:
    """The connection settings in force: the external server if configured, else the local one."""
    database = os.environ.get(ENV_DATABASE) or DEFAULT_DATABASE
    ops_database = os.environ.get(ENV_OPS_DATABASE) or DEFAULT_OPS_DATABASE
    user = os.environ.get(ENV_USER) or DEFAULT_USER
    host = os.environ.get(ENV_HOST)
    if host:
        return ConnectionSettings(
            host=host,
            port=_port_from_env(5432),
            user=user,
            password=os.environ.get(ENV_PASSWORD, ""),
            database=database,
            ops_database=ops_database,
            external=True,
        )
    return ConnectionSettings(
        host=DEFAULT_LOCAL_HOST,
        port=_port_from_env(DEFAULT_LOCAL_PORT),
        user=user,
        password=os.environ.get(ENV_PASSWORD) or local_password(),
        database=database,
        ops_database=ops_database,
        external=False,
    )
