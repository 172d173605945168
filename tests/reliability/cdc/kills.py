"""Driving ``killed_ingest`` from a test, and the source changes the kill tests make."""

from __future__ import annotations

import signal
import subprocess
import sys

from ingestion.settings import ENV_OPS_CAPTURE, OPS_CAPTURE_CDC, REPO_ROOT
from ingestion.simulators.world.tick import tick
from tests.integration.ingest_support import IngestWorld
from tests.reliability.cdc.parity import ops_transaction
from tests.reliability.shopflow_cli import subprocess_env

KILL_TIMEOUT_SECONDS = 300


def ingest_killed_at(world: IngestWorld, point: str, call: int) -> None:
    """Run the ops ingestion in a child process that SIGKILLs itself at ``point``."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.reliability.cdc.killed_ingest", point, str(call)],
        env=subprocess_env(world, **{ENV_OPS_CAPTURE: OPS_CAPTURE_CDC}),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=KILL_TIMEOUT_SECONDS,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, (
        f"{point} call {call}: exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    )


def change_the_source(world: IngestWorld) -> None:
    """A day of the simulated business, then an operator's updates and deletes: rows of
    every table inserted, updated and deleted (a customer erased, deliveries removed)."""
    tick(world.settings, days=1, write_files=False)
    ops_transaction(
        world.settings,
        "update ops.customers set city = city || ' (moved)', updated_at = now()"
        " where customer_id in (select customer_id from ops.customers order by customer_id"
        " limit 3)",
        "update ops.order_items set quantity = quantity + 1, updated_at = now()"
        " where order_item_id in (select order_item_id from ops.order_items"
        " order by order_item_id desc limit 4)",
        "delete from ops.deliveries where delivery_id in (select delivery_id"
        " from ops.deliveries where status = 'delivered' order by delivery_id limit 2)",
        # erased the way the order system does it: the orders keep no customer
        "delete from ops.customers where customer_id = (select max(customer_id)"
        " from ops.customers)",
    )
