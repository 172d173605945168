"""The server side of change data capture: the slot's name, the log level, dropping slots.

The operations database is read from its write-ahead log through one logical replication
slot per warehouse (see ``ingestion.sources.ops.capture``). A slot lives in the database it
decodes (the operations database) and keeps the server's log until it is read, so a slot whose
warehouse is gone must go with it: ``drop_database`` drops the slots of both ends.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time

import psycopg2
import psycopg2.extensions

log = logging.getLogger(__name__)

SLOT_PREFIX = "shopflow_"
MAX_NAME_LENGTH = 63
"""Postgres identifiers (and slot names) are at most 63 bytes."""
GENERATION_DIGITS = 6

LOGICAL = "logical"
FLUSH_WAIT_SECONDS = 2.0
FLUSH_POLL_SECONDS = 0.02
"""How long a read waits for commits made before it to be flushed, where it cannot make the
server flush them (see ``flushed_log_end``)."""


def slot_prefix(warehouse_database: str) -> str:
    """The start of every slot name of the warehouse ``warehouse_database``.

    Slot names allow lower-case letters, digits and ``_`` only: other characters become
    ``_``, and a long name is shortened with a hash so two warehouses never share a prefix.
    """
    safe = re.sub(r"[^a-z0-9_]", "_", warehouse_database.lower())
    room = MAX_NAME_LENGTH - len(SLOT_PREFIX) - GENERATION_DIGITS - 2
    if len(safe) > room or safe != warehouse_database:
        digest = hashlib.sha256(warehouse_database.encode()).hexdigest()[:8]
        safe = f"{safe[: room - 9]}_{digest}"
    return f"{SLOT_PREFIX}{safe}_"


def slot_name(warehouse_database: str, generation: int) -> str:
    """The slot of ``generation`` (a new one per initial copy) for a warehouse."""
    return f"{slot_prefix(warehouse_database)}{generation:0{GENERATION_DIGITS}d}"


def generation_of(name: str, warehouse_database: str) -> int | None:
    """The generation in a slot name of this warehouse, None for another's slot."""
    prefix = slot_prefix(warehouse_database)
    tail = name[len(prefix) :]
    if not name.startswith(prefix) or not tail.isdigit():
        return None
    return int(tail)


def drop_slots(
    cursor: psycopg2.extensions.cursor,
    *,
    database: str | None = None,
    names: list[str] | None = None,
) -> list[str]:
    """Drop the slots decoding ``database`` and/or named ``names``; ends their readers first.

    Returns the names dropped. Needs the replication attribute (or a superuser).
    """
    cursor.execute(
        "select slot_name, active_pid from pg_replication_slots"
        " where database = %s or slot_name = any(%s)",
        (database, names or []),
    )
    dropped: list[str] = []
    for name, active_pid in cursor.fetchall():
        if active_pid is not None:
            cursor.execute("select pg_terminate_backend(%s)", (active_pid,))
        cursor.execute(
            "select pg_drop_replication_slot(slot_name) from pg_replication_slots"
            " where slot_name = %s",
            (name,),
        )
        dropped.append(name)
    return dropped


def warehouse_slots(cursor: psycopg2.extensions.cursor, warehouse_database: str) -> list[str]:
    """The names of every slot kept for ``warehouse_database`` (any generation)."""
    cursor.execute(
        "select slot_name from pg_replication_slots where slot_name like %s",
        (slot_prefix(warehouse_database).replace("_", r"\_") + "%",),
    )
    return [
        name for (name,) in cursor.fetchall() if generation_of(name, warehouse_database) is not None
    ]


def wal_level(cursor: psycopg2.extensions.cursor) -> str:
    """The server's ``wal_level`` (``logical`` is needed for change data capture)."""
    cursor.execute("show wal_level")
    row = cursor.fetchone()
    return str(row[0]) if row else ""


def flushed_log_end(connection: psycopg2.extensions.connection) -> int:
    """The flushed end of the server's log, once every commit made before this call is in it.

    Decoding reads only flushed log, so a read must end there, and an asynchronous commit made
    just before it (``synchronous_commit = off``), written but not yet flushed, would be left
    out and then skipped by position next run. A synchronous commit of a transaction with an
    id flushes the log up to its own commit record, which is after those commits: one is made
    when the flushed end is behind (the server's WAL writer would take up to
    ``wal_writer_delay``, 200 ms by default, longer when it hibernates). Where that commit is
    refused (a standby), the call waits for the WAL writer, briefly. Leaves ``connection``
    inside a transaction when nothing had to be flushed, as any query would.
    """
    with connection.cursor() as cursor:
        # the insert position: an asynchronous commit may not even be written out yet
        cursor.execute(
            "select pg_current_wal_insert_lsn() - '0/0'::pg_lsn,"
            " pg_current_wal_flush_lsn() - '0/0'::pg_lsn"
        )
        written, flushed = (int(value) for value in cursor.fetchone())  # type: ignore[union-attr]
        if flushed >= written:
            return flushed
        try:
            cursor.execute("set local synchronous_commit = on")
            cursor.execute("select pg_current_xact_id()")
            connection.commit()
        except psycopg2.Error as exc:
            connection.rollback()
            log.debug("flushing the log by a commit failed (%s): waiting for it", exc)
        deadline = time.monotonic() + FLUSH_WAIT_SECONDS
        while True:
            cursor.execute("select pg_current_wal_flush_lsn() - '0/0'::pg_lsn")
            flushed = int(cursor.fetchone()[0])  # type: ignore[index]
            if flushed >= written or time.monotonic() > deadline:
                return flushed
            time.sleep(FLUSH_POLL_SECONDS)
