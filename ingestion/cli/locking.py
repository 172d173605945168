"""The run lock as the commands use it: the `--wait` option and a plain refusal."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import typer

from ingestion.cli.console import fail
from ingestion.database.errors import DatabaseError
from ingestion.settings import ConnectionSettings
from ingestion.stage_runner.run_lock import DEFAULT_WAIT_SECONDS, RunLockBusyError, run_lock
from ingestion.stage_runner.run_record import reconcile

BUSY_EXIT_CODE = 75
"""sysexits' EX_TEMPFAIL: another run holds the lock, trying again later will work."""

WAIT = typer.Option(
    DEFAULT_WAIT_SECONDS,
    "--wait",
    min=0,
    help="Seconds to wait for another run on this warehouse to end; 0 refuses at once.",
)


@contextmanager
def exclusive_run(settings: ConnectionSettings, command: str, wait: float) -> Iterator[None]:
    """Hold the warehouse's run lock for the block, or leave with the holder named. Holding it,
    first bring the audit up to date (journaled rows, stages a killed run left running)."""
    stack = ExitStack()
    try:
        stack.enter_context(run_lock(settings, command, wait_seconds=wait))
    except RunLockBusyError as exc:
        fail(str(exc), code=BUSY_EXIT_CODE)
    except DatabaseError as exc:
        fail(str(exc))
    with stack:
        reconcile(settings, lock_held=True)
        yield
