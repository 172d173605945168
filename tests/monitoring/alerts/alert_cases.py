"""The alert tests' cases: a run's stage results (failed or good), dbt's run results, one
event, and the deadline a delivery must keep."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from ingestion.monitoring.alerts import AlertEvent
from ingestion.stage_runner.stages import StageResult

CAUSE = "DbtError: dbt build failed (exit 1)"
DEADLINE = 2.0
MARGIN = 1.5  # thread start-up and a loaded CI machine; far below the 5 s socket timeouts


def stage_results(failed_stage: str = "dbt build") -> list[StageResult]:
    return [
        StageResult("ingest", "ok", 1.0, "12 rows"),
        StageResult(failed_stage, "failed", 2.0, CAUSE),
        StageResult("dbt docs", "skipped", 0.0, "an earlier stage failed"),
    ]


GOOD_RUN = [StageResult("ingest", "ok", 1.0, "12 rows"), StageResult("dbt build", "ok", 3.0, "")]


def write_run_results(path: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "results": [
                    {"unique_id": "model.shopflow.fct_orders", "status": "success"},
                    {
                        "unique_id": "test.shopflow.unique_fct_orders_order_id.1a2b",
                        "status": "fail",
                    },
                    {"unique_id": "test.shopflow.valid_email_x.3c4d", "status": "warn"},
                    {"unique_id": "model.shopflow.fct_sales", "status": "error"},
                    {"unique_id": "model.shopflow.mart_revenue", "status": "skipped"},
                ]
            }
        )
    )
    return path


EVENT = AlertEvent(
    stage="dbt build",
    what_failed=CAUSE,
    run_id="run-42",
    counts={"dbt_fail": 2, "dbt_pass": 30},
    failed_nodes=("unique_fct_orders_order_id", "not_null_dim_customers_customer_key"),
)


class Remember(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
