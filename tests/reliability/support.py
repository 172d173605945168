"""What the reliability tests share: worlds driven through the real CLI, and warehouse digests.

A digest is, per table, the row count and an order-independent hash of every column except
dlt's bookkeeping (``_dlt_*``: load ids and row ids differ between two runs by design), the
log reader's (``_cdc_*``: log positions differ between two servers or databases by design) and
the given per-run columns. Two warehouses with equal digests hold the same data.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from ingestion.benchmarking.cli_world import cli_environment
from ingestion.database.connection import autocommit
from ingestion.settings import REPO_ROOT, ConnectionSettings, Settings
from ingestion.transform.dbt_profile import dbt_environment

RAW_SCHEMAS = ("raw_storefront", "raw_ops", "raw_files")
PER_RUN_COLUMNS = frozenset(
    {"load_id", "rejected_at", "quarantined_at", "dbt_built_at", "_changed_at", "_change_id"}
)
"""Bookkeeping columns that name the run or its time rather than the data (`dbt_built_at`:
when dbt last wrote an incremental model's row; `_changed_at`, `_change_id`: when a change
log row was committed or read, and its id, which holds a log position)."""
API_KEY = f"reliability-{secrets.token_urlsafe(16)}"
"""The storefront API key of every world here: known, so a test can look for it in logs."""
SEED = 20261202
"""Seeds the moments at which the crash tests kill a process."""

Digest = dict[str, tuple[int, str]]


def shopflow_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("shopflow")), *args]


@dataclass(frozen=True)
class CliWorld:
    """A throwaway warehouse, operations DB and landing zone, driven through the CLI."""

    settings: ConnectionSettings
    files: Path

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            **cli_environment(self.settings, self.files),
            "STOREFRONT_API_KEY": API_KEY,
            "NO_COLOR": "1",
        }

    def run(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        """Run ``shopflow <args>`` to its end."""
        return subprocess.run(
            shopflow_command(*args),
            env=self.env,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def kill_after(self, seconds: float, *args: str) -> bool:
        """Start ``shopflow <args>`` and kill -9 its whole process group after ``seconds``.

        Returns whether the kill came before the command ended by itself.
        """
        return kill_after(seconds, shopflow_command(*args), self.env)

    def dbt_build_killed_after(self, seconds: float, *args: str) -> bool:
        """Start ``dbt build <args>`` on this world and kill -9 it after ``seconds``."""
        env = {
            **self.env,
            **dbt_environment(self.settings, Settings.from_environment()),
            "DBT_PROFILES_DIR": str(REPO_ROOT),
        }
        dbt = str(Path(sys.executable).with_name("dbt"))
        return kill_after(seconds, [dbt, "build", *args], env)

    def digest(self, schemas: Sequence[str] = RAW_SCHEMAS) -> Digest:
        return warehouse_digest(self.settings, schemas)


def kill_after(seconds: float, command: list[str], env: dict[str, str]) -> bool:
    process = subprocess.Popen(
        command,
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True


def seeded_moments(count: int, low: float, high: float, seed: int = SEED) -> list[float]:
    """``count`` kill moments spread over ``[low, high)`` seconds: one per equal slice, at a
    seeded random place inside it, so every phase of the run is hit."""
    rng = random.Random(seed)
    width = (high - low) / count
    return [round(low + width * (i + rng.random()), 2) for i in range(count)]


def warehouse_digest(
    settings: ConnectionSettings, schemas: Iterable[str], skip: frozenset[str] = PER_RUN_COLUMNS
) -> Digest:
    """Row count and content hash of every table of ``schemas`` (dlt's own tables excepted)."""
    digest: Digest = {}
    with autocommit(settings, settings.database) as cursor:
        cursor.execute(
            "select c.table_schema, c.table_name, array_agg(c.column_name::text order by"
            " c.column_name) from information_schema.columns c join information_schema.tables t"
            " using (table_schema, table_name) where c.table_schema = any(%s)"
            " and t.table_type = 'BASE TABLE' and c.table_name not like '\\_dlt\\_%%'"
            " and c.column_name not like '\\_dlt\\_%%' and c.table_name not like '\\_cdc\\_%%'"
            " and c.column_name not like '\\_cdc\\_%%' group by 1, 2 order by 1, 2",
            (list(schemas),),
        )
        tables = cursor.fetchall()
        for schema, table, columns in tables:
            kept = [c for c in columns if c not in skip]
            row = sql.SQL("md5(row({})::text)").format(
                sql.SQL(", ").join(sql.Identifier(c) for c in kept)
            )
            cursor.execute(
                sql.SQL(
                    "select count(*), coalesce(md5(string_agg({row}, '' order by {row})), '')"
                    " from {table}"
                ).format(row=row, table=sql.Identifier(schema, table))
            )
            count, content = cursor.fetchone()
            digest[f"{schema}.{table}"] = (int(count), str(content))
    return digest


def differing(left: Digest, right: Digest) -> dict[str, tuple[object, object]]:
    """The tables whose digests differ (or that only one side has)."""
    return {
        name: (left.get(name), right.get(name))
        for name in sorted(set(left) | set(right))
        if left.get(name) != right.get(name)
    }
