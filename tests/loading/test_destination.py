"""Unit tests of the warehouse destination's ``insert-only`` SQL (``InsertOnlyMergeJob``)."""

from __future__ import annotations

from ingestion.loading.destination import InsertOnlyMergeJob, WarehouseClient, warehouse


def _sql(**overrides: object) -> str:
    arguments: dict = {
        "root_table_name": '"raw"."events"',
        "staging_root_table_name": '"raw_staging"."events"',
        "primary_keys": ['"event_id"'],
        "root_table_column_names": ['"event_id"', '"name"'],
        "hard_delete_col": None,
        "deleted_cond": None,
        "insert_only": True,
    }
    arguments.update(overrides)
    return " ".join(InsertOnlyMergeJob.gen_upsert_merge_sql(**arguments))


def test_insert_only_inserts_everything_into_an_empty_table_else_only_new_keys() -> None:
    sql = _sql()
    assert "MERGE" not in sql
    assert 'IF EXISTS (SELECT 1 FROM "raw"."events") THEN' in sql
    assert (
        'INSERT INTO "raw"."events" ("event_id", "name") SELECT s."event_id", s."name"'
        ' FROM "raw_staging"."events" s WHERE NOT EXISTS (SELECT 1 FROM "raw"."events" d'
        ' WHERE d."event_id" = s."event_id");'
    ) in sql
    assert (
        'ELSE INSERT INTO "raw"."events" ("event_id", "name") SELECT s."event_id", s."name"'
        ' FROM "raw_staging"."events" s; END IF;'
    ) in sql


def test_a_composite_key_must_match_on_every_column() -> None:
    sql = _sql(primary_keys=['"date"', '"channel"'])
    assert 'WHERE d."date" = s."date" AND d."channel" = s."channel")' in sql


def test_other_strategies_and_hard_deletes_keep_dlts_merge() -> None:
    assert _sql(insert_only=False).lstrip().startswith("MERGE INTO")
    with_deletes = _sql(hard_delete_col='"deleted"', deleted_cond='"deleted" IS NOT NULL')
    assert with_deletes.lstrip().startswith("MERGE INTO")


def test_the_destination_uses_the_warehouse_client_under_dlts_postgres_name() -> None:
    destination = warehouse(
        credentials="postgresql://u:p@localhost:5432/db", destination_name="postgres"
    )
    assert destination.client_class is WarehouseClient
    assert destination.destination_name == "postgres"
