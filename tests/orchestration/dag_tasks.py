"""The shopflow_daily DAG's tasks in order, shared by the DAG's shape tests (Airflow's venv)
and the test that runs it (the project's venv)."""

SKIPPED_BY_DEFAULT = ("materialize",)
"""Tasks a DAG run with the default params skips (the feature store is optional)."""

STAGE_TASKS = (
    "simulate",
    "ingest_storefront",
    "ingest_ops",
    "ingest_files",
    "dbt_build",
    "materialize",
    "docs",
    "export",
    "report",
    "status",
)
