"""Whether the local server survives a power cut: durable (the default) or fast (chosen).

``durable`` is PostgreSQL's own default: every commit reaches the disk before it is
acknowledged, and whole pages are logged after a checkpoint so that a torn write can be
repaired. ``fast`` turns off ``fsync``, ``synchronous_commit`` and ``full_page_writes``: an
operating-system crash or a power cut can then leave a warehouse that is corrupt, not merely
behind (docs/database.md). Only the test suite and the benchmarks ask for it, explicitly
(``shopflow db start --fast``, the tests' session fixture): their databases are thrown away.

The three settings are reloadable, so the choice is written with ``ALTER SYSTEM`` (kept in
the data folder's ``postgresql.auto.conf``, across restarts) and applied with
``pg_reload_conf()``, without a restart. A server started by an older shopflow has them on
its command line, which outranks ``ALTER SYSTEM``: it says so until it is restarted.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass

from psycopg2 import sql

from ingestion.database.connection import autocommit
from ingestion.database.errors import DatabaseError
from ingestion.settings import ConnectionSettings

log = logging.getLogger(__name__)

FAST_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes")
"""What fast mode turns off (each ``on`` in durable mode)."""
RELOAD_WAIT_SECONDS = 10.0


class Durability(enum.Enum):
    DURABLE = "durable"
    FAST = "fast"


@dataclass(frozen=True)
class DurabilityState:
    mode: Durability | None
    """None when the three settings disagree (someone changed one by hand)."""
    values: dict[str, str]
    on_command_line: bool
    """Set on the server's command line (an older shopflow): only a restart can change them."""

    def describe(self) -> str:
        if self.mode is Durability.DURABLE:
            text = "durable (fsync on)"
        elif self.mode is Durability.FAST:
            text = "fast (fsync off: a power cut can corrupt the warehouse)"
        else:
            text = "mixed (" + ", ".join(f"{k}={v}" for k, v in self.values.items()) + ")"
        if self.on_command_line:
            text += (
                "; set on the command line by an older shopflow: restart the server "
                "(shopflow db stop, then shopflow db start) to choose"
            )
        return text


def read_state(settings: ConnectionSettings) -> DurabilityState:
    """The mode the running server is in, as a fresh session sees it."""
    with autocommit(settings, "postgres") as cursor:
        cursor.execute(
            "select name, setting, source from pg_settings where name = any(%s)",
            (list(FAST_SETTINGS),),
        )
        rows = cursor.fetchall()
    values = {name: setting for name, setting, _ in sorted(rows)}
    if all(value == "on" for value in values.values()):
        mode: Durability | None = Durability.DURABLE
    elif all(value == "off" for value in values.values()):
        mode = Durability.FAST
    else:
        mode = None
    on_command_line = any(source == "command line" for _, _, source in rows)
    return DurabilityState(mode, values, on_command_line)


def choose(admin: ConnectionSettings, mode: Durability) -> DurabilityState:
    """Put the server in ``mode`` (as its superuser), and wait until new sessions see it."""
    with autocommit(admin, "postgres") as cursor:
        for name in FAST_SETTINGS:
            if mode is Durability.FAST:
                cursor.execute(sql.SQL("alter system set {} = off").format(sql.Identifier(name)))
            else:
                cursor.execute(sql.SQL("alter system reset {}").format(sql.Identifier(name)))
        cursor.execute("select pg_reload_conf()")
    # the reload is a signal the postmaster handles in its own time
    deadline = time.monotonic() + RELOAD_WAIT_SECONDS
    while True:
        state = read_state(admin)
        if state.mode is mode or state.on_command_line:
            break
        if time.monotonic() > deadline:
            raise DatabaseError(
                f"The local server did not switch to {mode.value} mode after a reload "
                f"({state.describe()}): restart it (shopflow db stop, then shopflow db start)."
            )
        time.sleep(0.1)
    if state.mode is not mode:
        log.warning("durability not changed to %s: %s", mode.value, state.describe())
    log.info("local server durability: %s", state.describe())
    return state
