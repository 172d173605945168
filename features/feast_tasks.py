"""The feature store's operations, run inside .venv-feast by `shopflow features ...`
(ingestion/features/feast_process.py) as ``python features/feast_tasks.py <command> ...``.

Feast lives in its own virtualenv because feast 0.67 pins pandas below 3 while the project runs
pandas 3 (docs/features.md, "Why a second virtualenv"); this script is the only code that
imports Feast, and it takes every connection value from the environment the CLI sets
(feature_repo/feature_store.yaml reads them). It prints one JSON object on stdout for the CLI's
summary; diagnostics go to stderr through logging.

Business time, not the wall clock: the simulated sources live in their own calendar, so
`materialize` runs up to the newest as-of time the feature tables hold, and starts where the
last materialisation of each view ended (Feast's own `materialize_incremental` would start at
the wall clock's now minus the view's ttl, long after the data).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import psycopg
from feast import FeatureStore, FeatureView
from feast.infra.key_encoding_utils import serialize_entity_key
from feast.infra.online_stores.helpers import compute_table_id
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value
from psycopg import sql

REPO = Path(__file__).resolve().parent / "feature_repo"
sys.path.insert(0, str(REPO))

from definitions import OBJECTS  # noqa: E402  (the repo folder is not a package)

log = logging.getLogger("feast_tasks")

OFFLINE_SCRATCH_SCHEMA = "feast_offline"
EVENT_TIMESTAMP = "event_timestamp"
DEFAULT_SERVICE = "customer_value_scoring"


class NotAppliedError(RuntimeError):
    """The registry holds no feature view yet."""


def store(applied: bool = True) -> FeatureStore:
    """The feature store of features/feature_repo; with ``applied``, NotAppliedError when its
    registry is empty (a fresh clone, a new warehouse)."""
    feature_store = FeatureStore(repo_path=str(REPO))
    if applied and not feature_store.list_feature_views():
        raise NotAppliedError(
            "the feature store is not registered for this warehouse yet: run "
            "`shopflow features apply` first"
        )
    return feature_store


def connect(feature_store: FeatureStore) -> psycopg.Connection[Any]:
    """A connection to the warehouse, with the offline store's settings, in UTC (the feature
    tables' timestamps are UTC without a zone)."""
    config = feature_store.config.offline_store
    return psycopg.connect(
        host=config.host,
        port=int(config.port),
        dbname=config.database,
        user=config.user,
        password=config.password,
        sslmode=config.sslmode,
        options="-c timezone=UTC",
        autocommit=True,
    )


def source_table(view: FeatureView) -> sql.Composable:
    schema, table = view.batch_source.get_table_query_string().split(".")
    return sql.Identifier(schema, table)


def apply() -> dict[str, Any]:
    """Register the entities, views and services, create the online tables and the scratch
    schema historical retrieval uploads entity rows to."""
    feature_store = store(applied=False)
    with connect(feature_store) as connection:
        connection.execute(
            sql.SQL("create schema if not exists {}").format(sql.Identifier(OFFLINE_SCRATCH_SCHEMA))
        )
    feature_store.apply(OBJECTS)
    return {
        "feature_views": sorted(view.name for view in feature_store.list_feature_views()),
        "feature_services": sorted(s.name for s in feature_store.list_feature_services()),
    }


def newest_as_of(connection: psycopg.Connection[Any], view: FeatureView) -> datetime | None:
    query = sql.SQL("select max({}) from {}").format(
        sql.Identifier(view.batch_source.timestamp_field), source_table(view)
    )
    newest = connection.execute(query).fetchone()[0]  # type: ignore[index]
    return newest.replace(tzinfo=UTC) if newest else None


def entity_key(view: FeatureView, entity_id: int) -> bytes:
    """The online store's key of one entity of `view` (an int64 join key)."""
    (join_key,) = view.join_keys
    key = EntityKey(join_keys=[join_key], entity_values=[Value(int64_val=int(entity_id))])
    return serialize_entity_key(key, entity_key_serialization_version=3)


def prune_online(
    feature_store: FeatureStore, connection: psycopg.Connection[Any], view: FeatureView
) -> int:
    """Delete the online rows of entities that no longer have any row in the feature table (an
    erased customer): Feast's online stores only ever upsert. Returns the entities removed."""
    (join_key,) = view.join_keys
    live = connection.execute(
        sql.SQL("select distinct {} from {}").format(sql.Identifier(join_key), source_table(view))
    ).fetchall()
    keys = [entity_key(view, entity_id) for (entity_id,) in live]
    online_table = sql.Identifier(
        feature_store.config.online_store.db_schema,
        compute_table_id(feature_store.project, view),
    )
    removed = connection.execute(
        sql.SQL(
            "with gone as (delete from {} where not (entity_key = any(%s)) returning entity_key) "
            "select count(distinct entity_key) from gone"
        ).format(online_table),
        (keys,),
    ).fetchone()[0]  # type: ignore[index]
    return int(removed)


def materialize() -> dict[str, Any]:
    """Load each view's newest rows since its last materialisation into the online store, up
    to the newest as-of time of its table, then remove the entities gone from the table."""
    feature_store = store()
    report: dict[str, Any] = {}
    with connect(feature_store) as connection:
        for view in feature_store.list_feature_views():
            newest = newest_as_of(connection, view)
            if newest is None:
                report[view.name] = {"loaded_until": None, "removed_entities": 0}
                continue
            end = newest + timedelta(seconds=1)
            start = view.most_recent_end_time or (newest - view.ttl)
            if start < end:
                feature_store.materialize(start_date=start, end_date=end, feature_views=[view.name])
            report[view.name] = {
                "loaded_from": start.isoformat(),
                "loaded_until": end.isoformat(),
                "removed_entities": prune_online(feature_store, connection, view),
            }
    return report


def training_set(entities: Path, out: Path, service: str) -> dict[str, Any]:
    """A point-in-time correct training set: for each entity row (the service's join key and an
    `event_timestamp`), the features of the newest row at or before that time."""
    feature_store = store()
    feature_service = feature_store.get_feature_service(service)
    entity_rows = read_frame(entities)
    if EVENT_TIMESTAMP not in entity_rows.columns:
        raise ValueError(f"{entities} has no {EVENT_TIMESTAMP} column")
    entity_rows[EVENT_TIMESTAMP] = pd.to_datetime(entity_rows[EVENT_TIMESTAMP], utc=True)
    frame = feature_store.get_historical_features(
        entity_df=entity_rows, features=feature_service
    ).to_df()
    frame = frame.sort_values(list(entity_rows.columns)).reset_index(drop=True)
    write_frame(frame, out)
    return {"rows": len(frame), "columns": len(frame.columns), "out": str(out)}


def read_frame(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def write_frame(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def online(entities: Path, service: str) -> dict[str, Any]:
    """The online store's values for the entity ids in a file (the join key column)."""
    feature_store = store()
    feature_service = feature_store.get_feature_service(service)
    rows = read_frame(entities).drop(columns=[EVENT_TIMESTAMP], errors="ignore")
    values = feature_store.get_online_features(
        features=feature_service, entity_rows=rows.to_dict(orient="records")
    ).to_dict()
    return {"features": values}


def baseline() -> dict[str, Any]:
    """Train and evaluate the baseline model (features/baseline_model.py)."""
    from baseline_model import evaluate  # scikit-learn is slow to import: only for this command

    feature_store = store()
    with connect(feature_store) as connection:
        return evaluate(feature_store, connection)


def serve(host: str, port: int) -> dict[str, Any]:
    """Feast's HTTP feature server (POST /get-online-features) until interrupted."""
    store().serve(host=host, port=port, type_="http", no_access_log=True)
    return {"served": f"http://{host}:{port}"}


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parse.add_subparsers(dest="command", required=True)
    commands.add_parser("apply")
    commands.add_parser("materialize")
    commands.add_parser("baseline")
    for name in ("training-set", "online"):
        command = commands.add_parser(name)
        command.add_argument("--entities", type=Path, required=True)
        command.add_argument("--service", default=DEFAULT_SERVICE)
        if name == "training-set":
            command.add_argument("--out", type=Path, required=True)
    command = commands.add_parser("serve")
    command.add_argument("--host", default="127.0.0.1")
    command.add_argument("--port", type=int, default=6566)
    return parse


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    args = parser().parse_args(argv)
    try:
        result = run(args)
    except NotAppliedError as exc:  # the one sentence the CLI shows (its last line of stderr)
        print(exc, file=sys.stderr)
        return 2
    print(json.dumps(result, default=str))
    return 0


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.command == "apply":
        return apply()
    if args.command == "materialize":
        return materialize()
    if args.command == "training-set":
        return training_set(args.entities, args.out, args.service)
    if args.command == "online":
        return online(args.entities, args.service)
    if args.command == "baseline":
        return baseline()
    return serve(args.host, args.port)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
