"""The config module: every environment variable the project reads, named and parsed here.

Precedence, highest first (docs/configuration.md):

1. the shell's environment;
2. ``.env`` at the repo root (or the file ``SHOPFLOW_ENV_FILE`` names), read once when this
   module is first imported; it never overrides a variable the shell already set;
3. for the local server's port only: the port the running local server was started with,
   as ``shopflow db start`` recorded it (``ingestion.database.server_settings``);
4. the defaults below.

A command resolves them once into ``Settings`` (``Settings.from_environment()``) and passes
that object down; the connection settings are resolved beside it by
``ingestion.database.server_settings.connection_settings()``, which adds what only the local
server knows (its recorded port, the generated password). This module imports nothing else
of the package.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from urllib.parse import quote

from dotenv import dotenv_values

REPO_ROOT = Path(__file__).resolve().parents[1]

# -- the names -------------------------------------------------------------------------------
ENV_HOST = "SHOPFLOW_PG_HOST"
ENV_PORT = "SHOPFLOW_PG_PORT"
ENV_USER = "SHOPFLOW_PG_USER"
ENV_PASSWORD = "SHOPFLOW_PG_PASSWORD"
ENV_DATABASE = "SHOPFLOW_PG_DATABASE"
ENV_OPS_DATABASE = "SHOPFLOW_PG_OPS_DATABASE"
ENV_HOME = "SHOPFLOW_HOME"
ENV_ENV_FILE = "SHOPFLOW_ENV_FILE"
ENV_LANDING_DIR = "SHOPFLOW_LANDING_DIR"
ENV_EXPORT_DIR = "SHOPFLOW_EXPORT_DIR"
ENV_REPORT_DIR = "SHOPFLOW_REPORT_DIR"
ENV_EXPORT_NEUTRALISE_FORMULAS = "SHOPFLOW_EXPORT_NEUTRALISE_FORMULAS"
ENV_ALERT_URL = "SHOPFLOW_ALERT_URL"
ENV_ALERT_WEBHOOK = "SHOPFLOW_ALERT_WEBHOOK"
ENV_EXPORT_MAIL_URL = "SHOPFLOW_EXPORT_MAIL_URL"
ENV_LOG_LEVEL = "SHOPFLOW_LOG_LEVEL"
ENV_PACKAGE_ATTEMPTS = "SHOPFLOW_PACKAGE_ATTEMPTS"
ENV_SCHEMA_PREFIX = "SHOPFLOW_SCHEMA_PREFIX"
ENV_DBT_THREADS = "SHOPFLOW_DBT_THREADS"
ENV_DBT_TARGET_PATH = "DBT_TARGET_PATH"
ENV_DBT_PROFILES_DIR = "DBT_PROFILES_DIR"
ENV_PGOPTIONS = "PGOPTIONS"
ENV_BUSINESS_DATE = "SHOPFLOW_BUSINESS_DATE"
ENV_TARGET = "SHOPFLOW_TARGET"
ENV_LAKE_URL = "SHOPFLOW_LAKE_URL"
ENV_OPS_CAPTURE = "SHOPFLOW_OPS_CAPTURE"
ENV_STOREFRONT_BASE_URL = "SOURCES__STOREFRONT__BASE_URL"
ENV_STOREFRONT_API_KEY = "SOURCES__STOREFRONT__API_KEY"
ENV_NATS_HOST = "SHOPFLOW_NATS_HOST"
ENV_NATS_PORT = "SHOPFLOW_NATS_PORT"
ENV_STREAM_LATENESS = "SHOPFLOW_STREAM_LATENESS_SECONDS"

DEFAULT_LOCAL_HOST = "127.0.0.1"
DEFAULT_LOCAL_PORT = 54329
DEFAULT_EXTERNAL_PORT = 5432
DEFAULT_USER = "shopflow"
DEFAULT_DATABASE = "shopflow"
DEFAULT_OPS_DATABASE = "shopflow_ops"
DEFAULT_LOG_LEVEL = "WARNING"
LOCAL_SERVER_FOLDER = "pg"


@dataclass(frozen=True)
class Variable:
    """One environment variable: what it means and its default, as docs/configuration.md
    and .env.example show it (a test keeps the three in step)."""

    name: str
    meaning: str
    default: str
    read_by: str = "shopflow"
    """Who reads it: ``shopflow`` (this package), ``dbt`` (the profile or a macro), ``dlt``
    (its own configuration key) or ``libpq``."""


VARIABLES: tuple[Variable, ...] = (
    Variable(ENV_HOST, "external Postgres host; unset = the local embedded server", "unset"),
    Variable(
        ENV_PORT,
        "server port; locally also the port `shopflow db start` starts on",
        "the running local server's port, else 54329; 5432 external",
    ),
    Variable(ENV_USER, "role to log in as", DEFAULT_USER),
    Variable(ENV_PASSWORD, "password", "generated locally (.shopflow/credentials.json)"),
    Variable(ENV_DATABASE, "warehouse database", DEFAULT_DATABASE),
    Variable(ENV_OPS_DATABASE, "operations database (the simulated source)", DEFAULT_OPS_DATABASE),
    Variable(ENV_HOME, "local state folder (server files, credentials, dlt state)", ".shopflow/"),
    Variable(ENV_ENV_FILE, "the dotenv file to read; empty = none (shell only)", ".env"),
    Variable(ENV_LANDING_DIR, "landing zone where source files are dropped", "data/landing/"),
    Variable(ENV_EXPORT_DIR, "where `shopflow export` writes", "exports/"),
    Variable(ENV_REPORT_DIR, "where `shopflow report` writes index.html", "reports/"),
    Variable(
        ENV_EXPORT_NEUTRALISE_FORMULAS,
        "csv exports prefix text a spreadsheet would run as a formula with `'` (docs/exports.md)",
        "true",
    ),
    Variable(ENV_ALERT_URL, "apprise URLs that receive run alerts (docs/alerts.md)", "unset"),
    Variable(ENV_ALERT_WEBHOOK, "older single http(s) webhook for alerts, still honoured", "unset"),
    Variable(
        ENV_EXPORT_MAIL_URL, "apprise mailto(s):// URLs for `export --mail` (secret)", "unset"
    ),
    Variable(ENV_LOG_LEVEL, "log level of the CLI (DEBUG, INFO, WARNING, ...)", DEFAULT_LOG_LEVEL),
    Variable(ENV_PACKAGE_ATTEMPTS, "failed runs before a pending load package is set aside", "3"),
    Variable(ENV_SCHEMA_PREFIX, "build/read `<prefix>_<layer>` schemas (slim CI)", "unset", "dbt"),
    Variable(ENV_DBT_THREADS, "dbt threads (the profile)", "4", "dbt"),
    Variable(ENV_DBT_TARGET_PATH, "dbt's artifact folder", "target/", "dbt"),
    Variable(ENV_DBT_PROFILES_DIR, "where `db start` writes profiles.yml", "the repo root", "dbt"),
    Variable(ENV_PGOPTIONS, "extra Postgres session settings for dbt", "unset", "libpq"),
    Variable(ENV_BUSINESS_DATE, "the business day a run stands for (YYYY-MM-DD)", "unset"),
    Variable(ENV_TARGET, "the engine dbt builds on: `dev` (Postgres) or `spark`", "dev"),
    Variable(ENV_LAKE_URL, "the Parquet lake: a folder or s3://bucket/prefix", ".shopflow/lake/"),
    Variable(
        ENV_OPS_CAPTURE,
        "how the operations DB is read: `cdc` (its log) or `cursor` (updated_at polling)",
        "cdc when the server allows it, else cursor",
    ),
    Variable(
        ENV_STOREFRONT_BASE_URL,
        "storefront API to ingest from; unset = the local simulated API per run",
        "unset",
        "dlt",
    ),
    Variable(ENV_STOREFRONT_API_KEY, "that API's bearer token (secret)", "unset", "dlt"),
    Variable(ENV_NATS_HOST, "external NATS host (a cluster); unset = the local server", "unset"),
    Variable(ENV_NATS_PORT, "NATS port; locally the one `shopflow stream start` uses", "54422"),
    Variable(ENV_STREAM_LATENESS, "seconds a realtime window waits for late events", "120"),
)
ENV_NAMES: tuple[str, ...] = tuple(variable.name for variable in VARIABLES)


class SettingsError(ValueError):
    """An environment variable holds a value that cannot work; the message says which and why."""


# -- .env --------------------------------------------------------------------------------------
_from_env_file: set[str] = set()


def env_file() -> Path | None:
    """The dotenv file to read: ``SHOPFLOW_ENV_FILE`` if set (empty: none), else ``<repo>/.env``."""
    configured = os.environ.get(ENV_ENV_FILE)
    if configured is None:
        return REPO_ROOT / ".env"
    return Path(configured).expanduser() if configured.strip() else None


def load_env_file(path: Path | None = None) -> list[str]:
    """Put the file's variables into ``os.environ`` where the shell did not set them.

    Returns the names it set. Called once, when this module is imported."""
    path = path if path is not None else env_file()
    if path is None or not path.is_file():
        return []
    loaded = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in os.environ:
            os.environ[name] = value
            loaded.append(name)
    _from_env_file.update(loaded)
    return loaded


def origin(name: str) -> str:
    """Where a variable's value comes from, for messages: "the shell", ".env" or "unset"."""
    if name not in os.environ:
        return "unset"
    return ".env" if name in _from_env_file else "the shell"


load_env_file()


# -- plain settings ----------------------------------------------------------------------------
def read_variable(name: str) -> str:
    """The variable's value, stripped; "" when unset (an empty value means the default)."""
    return os.environ.get(name, "").strip()


def _folder(name: str, default: Path) -> Path:
    return Path(read_variable(name) or default).expanduser().resolve()


def state_dir() -> Path:
    """The git-ignored folder holding local state (database files, credentials, logs)."""
    return _folder(ENV_HOME, REPO_ROOT / ".shopflow")


def export_dir() -> Path:
    """Where `shopflow export` and the run's export stage write their files (git-ignored)."""
    return _folder(ENV_EXPORT_DIR, REPO_ROOT / "exports")


def report_dir() -> Path:
    """Where `shopflow report` and the run's report stage write index.html (git-ignored)."""
    return _folder(ENV_REPORT_DIR, REPO_ROOT / "reports")


TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def export_neutralises_formulas() -> bool:
    """``SHOPFLOW_EXPORT_NEUTRALISE_FORMULAS``: whether csv exports neutralise text cells a
    spreadsheet would evaluate (default true); a value that is not a yes or a no is a
    SettingsError, so a typo never turns the protection off."""
    configured = read_variable(ENV_EXPORT_NEUTRALISE_FORMULAS)
    if not configured or configured.lower() in TRUE_WORDS:
        return True
    if configured.lower() in FALSE_WORDS:
        return False
    raise SettingsError(
        f"{ENV_EXPORT_NEUTRALISE_FORMULAS}={configured!r} is not true or false: set it to false "
        "to export cells exactly as stored, or unset it to keep formulas neutralised."
    )


def whole_number(name: str, default: int) -> int:
    """A variable holding a whole number >= 1 (``default`` when unset), else SettingsError."""
    if (raw := read_variable(name) or str(default)).isdigit() and int(raw) >= 1:
        return int(raw)
    raise SettingsError(f"{name}={raw!r}: set a whole number >= 1, or unset it ({default})")


OPS_CAPTURE_CDC, OPS_CAPTURE_CURSOR, OPS_CAPTURE_AUTO = "cdc", "cursor", "auto"
"""How the ops DB is read: its log, or ``updated_at`` polling; ``auto`` (unset): ``cdc`` when
the server allows logical replication, else ``cursor``."""


def ops_capture() -> str:
    """``SHOPFLOW_OPS_CAPTURE``: ``cdc``, ``cursor``, or ``auto`` when unset."""
    return _one_of(ENV_OPS_CAPTURE, (OPS_CAPTURE_CDC, OPS_CAPTURE_CURSOR), OPS_CAPTURE_AUTO, "mode")


def _one_of(name: str, choices: tuple[str, ...], default: str, what: str) -> str:
    """A variable naming one of ``choices`` (``default`` when unset); anything else is a
    SettingsError, so a typo never quietly picks another behaviour."""
    value = read_variable(name) or default
    if value not in (*choices, default):
        raise SettingsError(
            f"{name}={value!r} is not a {what}: use {' or '.join(choices)} "
            f"(or unset it for {default})."
        )
    return value


def landing_dir() -> Path:
    return _folder(ENV_LANDING_DIR, REPO_ROOT / "data" / "landing")  # git-ignored


def log_level() -> int:  # an unknown name counts as the default (check_environment says so)
    level = logging.getLevelName(read_variable(ENV_LOG_LEVEL).upper() or DEFAULT_LOG_LEVEL)
    return level if isinstance(level, int) else logging.WARNING


def schema_prefix() -> str:
    return read_variable(ENV_SCHEMA_PREFIX)


def dbt_profiles_dir() -> Path:
    """``DBT_PROFILES_DIR`` (dbt reads profiles.yml there), else the repo root."""
    return _folder(ENV_DBT_PROFILES_DIR, REPO_ROOT)


def dbt_target_path(environment: Mapping[str, str] | None = None) -> str:
    """``DBT_TARGET_PATH`` as set ("" when unset), from ``environment`` if given."""
    source = os.environ if environment is None else environment
    return source.get(ENV_DBT_TARGET_PATH, "").strip()


DEFAULT_TARGET = "dev"
SPARK_TARGET = "spark"
TARGETS = (DEFAULT_TARGET, SPARK_TARGET)


def dbt_target() -> str:
    """``SHOPFLOW_TARGET``: the profile output dbt builds on, ``dev`` (Postgres) or ``spark``."""
    return _one_of(ENV_TARGET, TARGETS, DEFAULT_TARGET, "target")


def lake_url() -> str:
    """``SHOPFLOW_LAKE_URL``: an object-store URL as written, or a folder (``<home>/lake``)."""
    configured = read_variable(ENV_LAKE_URL)
    if "://" in configured:
        return configured.rstrip("/")
    return str(_folder(ENV_LAKE_URL, state_dir() / "lake"))


def business_date() -> date | None:
    """``SHOPFLOW_BUSINESS_DATE``: the business day a run stands for (the Airflow DAG sets it),
    None when unset. dbt never moves the business clock past the latest activity in the data
    (doc block `business_clock`), so a date after it means "the latest day"."""
    configured = read_variable(ENV_BUSINESS_DATE)
    if not configured:
        return None
    try:
        return date.fromisoformat(configured)
    except ValueError:
        raise SettingsError(
            f"{ENV_BUSINESS_DATE}={configured!r} is not a date: use YYYY-MM-DD, e.g. 2026-12-01."
        ) from None


# -- the server --------------------------------------------------------------------------------
@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach the Postgres server that holds the warehouse and the operations DB."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)  # never in a log line or a traceback's locals
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


def explicit_port() -> int | None:
    """``SHOPFLOW_PG_PORT`` when set (in the shell or .env), else None; invalid: SettingsError."""
    raw = read_variable(ENV_PORT)
    if not raw:
        return None
    if raw.isdigit() and 0 < int(raw) < 65536:
        return int(raw)
    raise SettingsError(
        f"{ENV_PORT}={raw!r} is not a port number from 1 to 65535: set it to the port the server "
        f"listens on (or unset it for the default, {DEFAULT_LOCAL_PORT} locally, 5432 external)."
    )


def configured_password() -> str | None:
    """``SHOPFLOW_PG_PASSWORD`` as written (never stripped: it is a secret), None when unset."""
    return os.environ.get(ENV_PASSWORD)


def check_environment() -> None:
    """Raise ``SettingsError`` if a variable cannot be used, before any command starts work."""
    explicit_port()
    business_date()
    dbt_target()
    export_neutralises_formulas()
    whole_number(ENV_PACKAGE_ATTEMPTS, 3)
    ops_capture()
    level = read_variable(ENV_LOG_LEVEL)
    if level and not isinstance(logging.getLevelName(level.upper()), int):
        raise SettingsError(
            f"{ENV_LOG_LEVEL}={level!r} is not a log level: use DEBUG, INFO, WARNING or ERROR "
            f"(or unset it for {DEFAULT_LOG_LEVEL})."
        )


# -- the settings object -----------------------------------------------------------------------
@dataclass(frozen=True)
class Settings:
    """Every project setting a command works with, resolved once at the top (the CLI, the
    benchmarks) by ``from_environment`` and passed down: no module below reads the
    environment or an accessor above for them. The connection is resolved beside it
    (``ingestion.database.server_settings``): the local server's password lives there."""

    state_dir: Path
    landing_dir: Path
    export_dir: Path
    report_dir: Path
    lake_url: str
    target: str
    business_date: date | None
    export_neutralises_formulas: bool
    package_attempts: int
    alert_url: str
    alert_webhook: str
    export_mail_url: str
    """apprise URLs (``mailto://``/``mailtos://``) `shopflow export --mail` sends the files to."""
    schema_prefix: str
    storefront_base_url: str
    """dlt's ``SOURCES__STOREFRONT__BASE_URL`` ("" when unset: the simulated API is started)."""
    ops_capture: str
    """``cdc``, ``cursor`` or ``auto`` (see ``ops_capture``)."""
    pg_options: str
    log_level: int
    nats_url: str
    stream_lateness_seconds: int

    @property
    def quarantine_dir(self) -> Path:
        """Where unreadable landing files are moved: ``quarantine/`` beside the landing folder."""
        return self.landing_dir.parent / "quarantine"

    @property
    def spark_dir(self) -> Path:
        """Spark's local state (``<SHOPFLOW_HOME>/spark``): the warehouse folder, the metastore."""
        return self.state_dir / "spark"

    @classmethod
    def from_environment(cls) -> Settings:
        """The settings in force (the shell, then .env, then the defaults); a variable that
        cannot work is a SettingsError naming it, before any command starts work."""
        check_environment()
        return cls(
            state_dir=state_dir(),
            landing_dir=landing_dir(),
            export_dir=export_dir(),
            report_dir=report_dir(),
            lake_url=lake_url(),
            target=dbt_target(),
            business_date=business_date(),
            export_neutralises_formulas=export_neutralises_formulas(),
            package_attempts=whole_number(ENV_PACKAGE_ATTEMPTS, 3),
            alert_url=read_variable(ENV_ALERT_URL),
            alert_webhook=read_variable(ENV_ALERT_WEBHOOK),
            export_mail_url=read_variable(ENV_EXPORT_MAIL_URL),
            schema_prefix=schema_prefix(),
            storefront_base_url=read_variable(ENV_STOREFRONT_BASE_URL),
            ops_capture=ops_capture(),
            pg_options=read_variable(ENV_PGOPTIONS),
            log_level=log_level(),
            nats_url=f"nats://{read_variable(ENV_NATS_HOST) or DEFAULT_LOCAL_HOST}:"
            f"{whole_number(ENV_NATS_PORT, 54422)}",
            stream_lateness_seconds=whole_number(ENV_STREAM_LATENESS, 120),
        )
