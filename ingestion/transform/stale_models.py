"""The models a partial run leaves stale: those that depend on a raw table that failed to load.

When the ingest stage of `shopflow run` fails for some tables only, the dbt-build stage still
runs, without the models (and snapshots) downstream of those tables' dbt sources
(``--exclude source:<source>.<table>+``): they keep what the last good build made. Which models
those are is read from the manifest dbt wrote for the build and kept in ``audit.stale_models``
under the run's id, so `shopflow status` and the report can name them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql
from psycopg2.extensions import cursor as pg_cursor

from ingestion.database.connection import autocommit
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

STALE_TABLE = ("audit", "stale_models")
STALE_RESOURCE_TYPES = ("model", "snapshot")


@dataclass(frozen=True)
class StaleModel:
    """A model a run did not rebuild, and the failed raw tables it depends on."""

    run_id: str
    model: str
    because: str


def exclusions(failed_tables: Sequence[tuple[str, str]]) -> list[str]:
    """dbt ``--exclude`` selectors: every node downstream of each failed (source, table)."""
    return [f"source:{source}.{table}+" for source, table in dict.fromkeys(failed_tables)]


def stale_nodes(manifest_path: Path, failed_tables: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Model or snapshot name -> the failed raw tables (``source.table``) it depends on, from
    dbt's ``child_map`` in ``manifest_path`` (empty when there is no manifest)."""
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("no manifest to find the stale models in (%s)", exc)
        return {}
    children: dict[str, list[str]] = manifest.get("child_map", {})
    nodes: dict[str, dict[str, str]] = manifest.get("nodes", {})
    wanted = {f"{source}.{table}" for source, table in failed_tables}
    stale: dict[str, set[str]] = {}
    for unique_id in manifest.get("sources", {}):
        origin = ".".join(unique_id.split(".")[-2:])
        if origin not in wanted:
            continue
        queue, seen = list(children.get(unique_id, [])), set()
        while queue:
            node = queue.pop()
            if node in seen:
                continue
            seen.add(node)
            queue.extend(children.get(node, []))
            details = nodes.get(node)
            if details and details.get("resource_type") in STALE_RESOURCE_TYPES:
                stale.setdefault(details["name"], set()).add(origin)
    return {name: ", ".join(sorted(origins)) for name, origins in sorted(stale.items())}


def _ensure_table(cursor: pg_cursor) -> None:
    cursor.execute("create schema if not exists audit")
    cursor.execute(
        sql.SQL(
            "create table if not exists {} (run_id text not null, model text not null,"
            " because text not null, recorded_at timestamptz not null default now())"
        ).format(sql.Identifier(*STALE_TABLE))
    )


def record_stale(settings: ConnectionSettings, run_id: str, stale: dict[str, str]) -> None:
    """Keep the run's stale models (model -> failed raw tables) in ``audit.stale_models``."""
    with autocommit(settings, settings.database) as cursor:
        _ensure_table(cursor)
        cursor.execute(
            sql.SQL("delete from {} where run_id = %s").format(sql.Identifier(*STALE_TABLE)),
            (run_id,),
        )
        for model, because in stale.items():
            cursor.execute(
                sql.SQL("insert into {} (run_id, model, because) values (%s, %s, %s)").format(
                    sql.Identifier(*STALE_TABLE)
                ),
                (run_id, model, because),
            )


def _exists(cursor: pg_cursor, relation: str) -> bool:
    cursor.execute("select to_regclass(%s) is not null", (relation,))
    row = cursor.fetchone()
    return bool(row and row[0])


def read_stale(settings: ConnectionSettings, run_id: str) -> list[StaleModel]:
    """The models run ``run_id`` left stale (none when it built them all)."""
    with autocommit(settings, settings.database) as cursor:
        if not _exists(cursor, ".".join(STALE_TABLE)):
            return []
        cursor.execute(
            sql.SQL(
                "select run_id, model, because from {} where run_id = %s order by model"
            ).format(sql.Identifier(*STALE_TABLE)),
            (run_id,),
        )
        return [StaleModel(*found) for found in cursor.fetchall()]


def latest_stale(settings: ConnectionSettings) -> list[StaleModel]:
    """The models the most recent run (in ``audit.pipeline_runs``) left stale."""
    with autocommit(settings, settings.database) as cursor:
        if not _exists(cursor, "audit.pipeline_runs"):
            return []
        cursor.execute(
            "select run_id from audit.pipeline_runs group by run_id"
            " order by max(started_at) desc limit 1"
        )
        newest = cursor.fetchone()
    return read_stale(settings, str(newest[0])) if newest else []


def describe_stale(stale: Sequence[StaleModel]) -> str:
    """One sentence naming the stale models and why, for status and the report."""
    because = sorted({origin for model in stale for origin in model.because.split(", ")})
    names = ", ".join(model.model for model in stale)
    return (
        f"{len(stale)} model(s) stale: run {stale[0].run_id} did not rebuild them because "
        f"{', '.join(because)} failed to load; they hold the previous build's data: {names}"
    )
