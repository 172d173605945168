"""`python -m tests.reliability.cdc.killed_ingest <point> <call>`: `shopflow ingest ops` from
the operations database's log, in this process, which kills itself with SIGKILL at one point.

SIGKILL, not an exception: no ``finally``, no rollback on the client's side, no dlt clean-up; the
server ends the process's open transactions and its slot stays where it was, as after a power
cut or the out-of-memory killer. The points (``POINTS``), on the ``<call>``-th call:

- ``reading``: ``LogCapture.fold``, while the log's changes are being folded;
- ``loading``: right after dlt's ``COPY`` of a load file into the staging dataset committed,
  before the merge into raw (dlt's ``PostgresCsvCopyJob.run``);
- ``recording``: ``write_position``, after every table loaded, before the warehouse's record;
- ``advancing``: ``advance``, after the record, before the slot moves on;
- ``copying``: ``LogCapture.copied_rows``, during the initial copy of a table.

The world comes from the environment (``SHOPFLOW_PG_*``), as for the CLI. Exit status 3 says
the point was never reached (the test chose a call that does not happen).
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlt.destinations.impl.postgres.postgres import PostgresCsvCopyJob

import ingestion.sources.ops.capture as capture_module
from ingestion.database.server_settings import connection_settings
from ingestion.loading.registry import IngestContext
from ingestion.loading.runner import ingest
from ingestion.settings import Settings
from ingestion.sources.ops.capture import LogCapture
from tests.integration.ingest_support import fresh_run_id

NOT_REACHED = 3


@dataclass(frozen=True)
class KillPoint:
    """Where to die: ``owner.name`` on its n-th call, before it runs or once it returned."""

    owner: Any
    name: str
    after_the_call: bool = False


POINTS = {
    "reading": KillPoint(LogCapture, "fold"),
    "loading": KillPoint(PostgresCsvCopyJob, "run", after_the_call=True),
    "recording": KillPoint(capture_module, "write_position"),
    "advancing": KillPoint(capture_module, "advance"),
    "copying": KillPoint(LogCapture, "copied_rows"),
}


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_on_call(point: KillPoint, call: int) -> None:
    """Replace ``point`` by a wrapper that kills this process on its ``call``-th call."""
    original: Callable[..., Any] = getattr(point.owner, point.name)
    calls = itertools.count(1)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # this call's own number, taken atomically: dlt runs a package's load jobs in threads,
        # so by the time this one returns, others may have been counted
        number = next(calls)
        if number == call and not point.after_the_call:
            die()
        result = original(*args, **kwargs)
        if number == call and point.after_the_call:
            die()
        return result

    setattr(point.owner, point.name, wrapper)


def main(point: str, call: int) -> int:
    kill_on_call(POINTS[point], call)
    context = IngestContext(settings=connection_settings(), config=Settings.from_environment())
    report = ingest(["ops"], context, run_id=fresh_run_id())
    failed = [(u.table, u.error) for u in report.units if u.status != "ok"]
    print(f"{point} call {call} never came; the run ended ok={report.ok} {failed}", file=sys.stderr)
    return NOT_REACHED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
