"""The shopflow_daily DAG's tasks in order, shared by the DAG's shape tests (Airflow's venv)
and the test that runs it (the project's venv)."""

STAGE_TASKS = (
    "simulate",
    "ingest_storefront",
    "ingest_ops",
    "ingest_files",
    "dbt_build",
    "docs",
    "export",
    "report",
    "status",
)
