"""The warehouse as a dlt destination: dlt's Postgres, with plain INSERTs for ``insert-only``.

dlt's ``insert-only`` merge on Postgres is one ``MERGE ... WHEN NOT MATCHED THEN INSERT``
from the staging table into the table. ``InsertOnlyMergeJob`` writes the same rows with
plain ``INSERT ... SELECT``, in the same transaction of the same follow-up job:

- into an empty table (a first load), every staged row: nothing can match;
- otherwise the staged rows whose key the table does not hold yet (an anti-join: a key is
  matched by equality, so a null key never matches, exactly as in the ``MERGE``).

Both branches are faster than the ``MERGE`` (the figures: docs/benchmarks.md, "Ingestion:
where the time goes", step 7). Everything else (other strategies, hard deletes, nested
tables) is dlt's own SQL.

Its load jobs are dlt's too, except that a file whose rows the database refuses is loaded
again without them: the refused rows go to ``rejected_records`` (see ``refused_rows``).
"""

from __future__ import annotations

from collections.abc import Sequence

from dlt.common.destination.client import FollowupJobRequest, LoadJob
from dlt.common.destination.typing import PreparedTableSchema
from dlt.destinations import postgres
from dlt.destinations.impl.postgres.postgres import PostgresClient, PostgresCsvCopyJob
from dlt.destinations.insert_job_client import InsertValuesLoadJob
from dlt.destinations.sql_jobs import SqlMergeFollowupJob

from ingestion.loading.refused_rows import SalvagingCsvCopyJob, SalvagingInsertValuesJob


class InsertOnlyMergeJob(SqlMergeFollowupJob):
    """dlt's merge follow-up job, with ``insert-only`` on the root table as plain INSERTs."""

    @classmethod
    def gen_upsert_merge_sql(
        cls,
        root_table_name: str,
        staging_root_table_name: str,
        primary_keys: Sequence[str],
        root_table_column_names: Sequence[str],
        hard_delete_col: str | None,
        deleted_cond: str | None,
        insert_only: bool = False,
        not_deleted_cond: str | None = None,
        changed_cond: str | None = None,
        insert_cond: str | None = None,
        source_filter: str | None = None,
    ) -> list[str]:
        """The statement(s) that move the staged root rows into the table."""
        if not insert_only or hard_delete_col is not None or not primary_keys:
            return super().gen_upsert_merge_sql(
                root_table_name,
                staging_root_table_name,
                primary_keys,
                root_table_column_names,
                hard_delete_col,
                deleted_cond,
                insert_only=insert_only,
                not_deleted_cond=not_deleted_cond,
                changed_cond=changed_cond,
                insert_cond=insert_cond,
                source_filter=source_filter,
            )
        columns = ", ".join(root_table_column_names)
        staged = f"SELECT {', '.join(f's.{c}' for c in root_table_column_names)}"
        staged += f" FROM {staging_root_table_name} s"
        same_key = " AND ".join(f"d.{key} = s.{key}" for key in primary_keys)
        return [
            "DO $insert_only$ BEGIN"
            f" IF EXISTS (SELECT 1 FROM {root_table_name}) THEN"
            f" INSERT INTO {root_table_name} ({columns}) {staged}"
            f" WHERE NOT EXISTS (SELECT 1 FROM {root_table_name} d WHERE {same_key});"
            f" ELSE INSERT INTO {root_table_name} ({columns}) {staged};"
            " END IF; END $insert_only$;"
        ]


class WarehouseClient(PostgresClient):
    """dlt's Postgres job client, merging with ``InsertOnlyMergeJob``; its row load jobs set
    refused rows aside instead of failing."""

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        job = super().create_load_job(table, file_path, load_id, restore)
        # the raw dataset, also while dlt loads a merge's rows into its staging dataset
        raw_dataset = self.config.normalize_dataset_name(self.schema)
        if type(job) is PostgresCsvCopyJob:
            return SalvagingCsvCopyJob(file_path, raw_dataset)
        if type(job) is InsertValuesLoadJob:
            return SalvagingInsertValuesJob(file_path, raw_dataset)
        return job

    def _create_merge_followup_jobs(
        self, table_chain: Sequence[PreparedTableSchema]
    ) -> list[FollowupJobRequest]:
        return [InsertOnlyMergeJob.from_table_chain(table_chain, self.sql_client)]


class warehouse(postgres):  # noqa: N801 - dlt names its destination factories in lower case
    """dlt's ``postgres`` destination factory with ``WarehouseClient``.

    Create it with ``destination_name="postgres"`` so that dlt's ``postgres`` configuration
    (e.g. ``DESTINATION__POSTGRES__CREATE_INDEXES``) still applies.
    """

    @property
    def client_class(self) -> type[PostgresClient]:
        return WarehouseClient
