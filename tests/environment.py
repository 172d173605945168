"""The environment variables that point the CLI at a server, its databases and its local state:
what a test that must not reach the developer's own removes first."""

from __future__ import annotations

from ingestion.settings import (
    ENV_DATABASE,
    ENV_HOME,
    ENV_HOST,
    ENV_OPS_DATABASE,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_USER,
)

SHOPFLOW_ENV = (
    ENV_HOST,
    ENV_PORT,
    ENV_USER,
    ENV_PASSWORD,
    ENV_DATABASE,
    ENV_OPS_DATABASE,
    ENV_HOME,
)
