"""Running `shopflow` against a private world as a person would, and comparing raw layers.

`world_env` points the CLI (in a subprocess or through typer's CliRunner) at one private
world: its databases, its landing folder, the session's server. `raw_layer` reads every raw
table as row count plus an order-independent digest of its business columns (dlt's
``_dlt_*`` bookkeeping ids differ between two runs of the same data, so they are left out).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ingestion.settings import (
    ENV_DATABASE,
    ENV_HOST,
    ENV_OPS_DATABASE,
    ENV_PASSWORD,
    ENV_PORT,
    ENV_USER,
)
from tests.integration.ingest_support import IngestWorld

SHOPFLOW = str(Path(sys.executable).with_name("shopflow"))

RUN_DEPENDENT_COLUMNS = ("load_id", "rejected_at", "quarantined_at")
"""Bookkeeping columns that differ between two runs of the same data, like dlt's own ids."""


def world_env(world: IngestWorld) -> dict[str, str]:
    """Environment variables that point `shopflow` at this world (and nothing else)."""
    settings = world.settings
    env = {
        ENV_PORT: str(settings.port),
        ENV_USER: settings.user,
        ENV_PASSWORD: settings.password,
        ENV_DATABASE: settings.database,
        ENV_OPS_DATABASE: settings.ops_database,
        "SHOPFLOW_LANDING_DIR": str(world.landing),
        "COLUMNS": "200",
    }
    if settings.external:
        env[ENV_HOST] = settings.host
    return env


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


def raw_tables(world: IngestWorld) -> list[str]:
    """Every table of the raw schemas except dlt's own bookkeeping tables."""
    rows = world.query(
        "select table_schema || '.' || table_name from information_schema.tables"
        " where table_schema in ('raw_storefront', 'raw_ops', 'raw_files')"
        " and table_name not like '\\_dlt\\_%' order by 1"
    )
    return [row[0] for row in rows]


def business_digest(world: IngestWorld, table: str) -> tuple[int, str]:
    """Row count and an order-independent digest of the table's non-dlt columns."""
    schema, name = table.split(".")
    columns = [
        row[0]
        for row in world.query(
            "select column_name from information_schema.columns"
            f" where table_schema = '{schema}' and table_name = '{name}'"
            " and column_name not like '\\_dlt\\_%' order by column_name"
        )
        if row[0] not in RUN_DEPENDENT_COLUMNS
    ]
    row_text = "row(" + ", ".join(f'"{column}"' for column in columns) + ")::text"
    row = world.query(
        f"select count(*), coalesce(md5(string_agg(md5({row_text}), '' order by md5({row_text}))),"
        f" '') from {table}"
    )[0]
    return int(row[0]), str(row[1])


def raw_layer(world: IngestWorld) -> dict[str, tuple[int, str]]:
    """Every raw table's business digest."""
    return {table: business_digest(world, table) for table in raw_tables(world)}
