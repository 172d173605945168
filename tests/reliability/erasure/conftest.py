"""One small world (scale 0.2) in the folder's own throwaway databases, shared by its modules:
the pipeline runs, a few customers with recognised orders are erased in the order system the
way it erases (orders keep their amounts and lose the customer; the customer row is
hard-deleted), and the pipeline runs again."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest

from ingestion.benchmarking.cli_world import cli_environment
from ingestion.database.connection import create_database, drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ENV_HOST, ConnectionSettings
from ingestion.transform.slim_ci import production_state_dir
from tests.reliability.erasure.erasure_world import (
    ERASED_HERE,
    ErasureWorld,
    erase_in_source,
    history_rows,
    order_revenue,
    people,
    reject_a_row_of,
    revenue,
    run_pipeline,
)
from tests.worlds import PIPELINE_SCALE


@pytest.fixture(scope="package")
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ErasureWorld]:
    suffix = uuid.uuid4().hex[:8]
    settings = server_settings.with_databases(
        f"shopflow_test_{suffix}_erasure", f"shopflow_test_{suffix}_erasure_ops"
    )
    create_database(settings, settings.database)
    create_database(settings, settings.ops_database)
    env = cli_environment(settings, tmp_path_factory.mktemp("erasure"))
    try:
        with pytest.MonkeyPatch.context() as patch:
            if not settings.external:
                patch.delenv(ENV_HOST, raising=False)
            for name, value in env.items():
                patch.setenv(name, value)
            run_pipeline("--scale", PIPELINE_SCALE)
            state = ErasureWorld(settings)
            # people with recognised revenue (so revenue is at stake) and a phone
            state.erased = people(
                state,
                "phone is not null and customer_id in (select customer_id from ops.orders "
                "where status in ('paid', 'shipped', 'delivered')) order by customer_id limit %s",
                ERASED_HERE,
            )
            ids = [person.customer_id for person in state.erased]
            reject_a_row_of(state, state.erased[0])
            state.revenue_before = revenue(state)
            state.erased_orders = order_revenue(state, ids)
            erase_in_source(state, ids)
            run_pipeline()
            state.revenue_after = revenue(state)
            state.history_rows = history_rows(state, state.erased)
            yield state
    finally:
        drop_database(settings, settings.database)
        drop_database(settings, settings.ops_database)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)
        shutil.rmtree(production_state_dir(settings), ignore_errors=True)
