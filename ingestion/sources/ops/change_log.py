"""The append-only change log of the tables whose history is kept (``customers_changes``).

The raw table holds each row's last state; its change log holds every state it passed
through, so the SCD2 history (dbt: ``stg_ops__customer_versions``) is built from every
change, not from the state seen at run time. Read from the write-ahead log, each change is
one row (``insert``, ``update``, ``delete``, a truncate as one ``delete`` per key): a customer
who moved twice between two runs leaves both moves. Read whole (an initial copy, a resync) or
by the cursor reader, a run logs the states it sees (``snapshot``, ``seen``) and the keys it
finds gone (``delete``): a sample, as a snapshot of the raw table would be.

Rows are merged ``insert-only`` on ``_change_id``, an id that a second read of the same
change gives again (log position and order in the transaction; key and ``updated_at`` for a
state seen; key and read time for a deletion found), so a run that re-reads after a crash
logs nothing twice. Every column of the table is nullable here: a delete carries the key
only. Erasure (dbt's ``erase_personal_data``) nulls the personal columns of erased keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa

from ingestion.sources.ops.folded_changes import (
    DELETE_OP,
    LSN_COLUMN,
    OP_COLUMN,
    TRUNCATE,
    LoggedChange,
    TableChanges,
    TypedRows,
    held_text_values,
    text_or_none,
    typed_rows,
)
from ingestion.sources.ops.pgoutput import UNCHANGED
from ingestion.sources.ops.settings import CURSOR_COLUMN, DELETED_FLAG_COLUMN
from ingestion.sources.ops.text_values import SourceColumn

HISTORY_TABLES: dict[str, str] = {"customers": "customers_changes"}
"""Tables whose every change is kept, and their change log's table."""

CHANGE_ID_COLUMN = "_change_id"
CHANGE_SEQ_COLUMN = "_change_seq"
CHANGED_AT_COLUMN = "_changed_at"
SEEN_OP = "seen"

CHANGE_LOG_HINTS: dict[str, Any] = {
    "write_disposition": {"disposition": "merge", "strategy": "insert-only"},
    "primary_key": CHANGE_ID_COLUMN,
}
"""dlt hints of every change log resource: a change already logged is never logged again."""

META_COLUMNS = (
    SourceColumn(CHANGE_SEQ_COLUMN, "bigint", False),
    SourceColumn(CHANGED_AT_COLUMN, "timestamp with time zone", False),
    SourceColumn(CHANGE_ID_COLUMN, "text", False),
)


def logged_history(
    folded: TableChanges,
    raw_cursor: Any,
    dataset: str,
    table: str,
    raw_keys: Callable[[], set[Any]],
) -> TypedRows | None:
    """Every change of ``table`` this run read from the log, typed for its change log.

    Values the log did not send (TOASTed, unchanged) come from the key's earlier change in
    the run, else from raw's copy (``raw_cursor``, before this run's load); a truncate
    becomes a delete of every key that existed then: those raw holds (``raw_keys``) and those
    written earlier in the run.
    """
    if not folded.history:
        return None
    latest: dict[str, dict[str, object]] = {}
    entries: list[LoggedChange] = []
    for change in folded.history:
        if change.kind == TRUNCATE:
            alive = {str(k) for k in raw_keys()} | set(latest)
            for seq, key in enumerate(sorted(alive), start=change.seq):
                entries.append(LoggedChange(change.commit, seq, DELETE_OP, key, {}))
            latest.clear()
            continue
        values = change.values
        if change.kind != DELETE_OP and any(v is UNCHANGED for v in values.values()):
            earlier = latest.get(change.key, {})
            values = {n: earlier.get(n, v) if v is UNCHANGED else v for n, v in values.items()}
        if change.kind == DELETE_OP:
            latest.pop(change.key, None)
        else:
            latest[change.key] = values
        entries.append(LoggedChange(change.commit, change.seq, change.kind, change.key, values))
    fill_from_raw(raw_cursor, dataset, table, folded.key, entries)
    columns = [SourceColumn(c.name, c.type, True) for c in folded.columns.values()]
    names = [c.name for c in columns]
    text_values = [
        [
            entry.key if name == folded.key else text_or_none(entry.values.get(name))
            for entry in entries
        ]
        for name in names
    ]
    text_values.append([str(entry.seq) for entry in entries])
    text_values.append([entry.commit.time.isoformat() for entry in entries])
    text_values.append([f"{entry.commit.lsn}:{entry.seq}" for entry in entries])
    return typed_rows(
        [*columns, *META_COLUMNS],
        text_values,
        [entry.commit.lsn for entry in entries],
        [entry.kind for entry in entries],
    )


def fill_from_raw(
    raw_cursor: Any, dataset: str, table: str, key: str, entries: list[LoggedChange]
) -> None:
    """Give changes the unsent values no earlier change of the run had, from raw's copy."""
    wanting = {
        entry.key: [name for name, value in entry.values.items() if value is UNCHANGED]
        for entry in entries
    }
    wanting = {entry_key: names for entry_key, names in wanting.items() if names}
    if not wanting:
        return
    columns = sorted({name for names in wanting.values() for name in names})
    held = held_text_values(raw_cursor, dataset, table, key, sorted(wanting), columns)
    for entry in entries:
        for name, value in entry.values.items():
            if value is UNCHANGED:
                entry.values[name] = held.get(entry.key, {}).get(name)


def nullable(batch: pa.Table) -> pa.Table:
    """``batch`` with every column nullable: a delete carries the key only."""
    return batch.cast(pa.schema([field.with_nullable(True) for field in batch.schema]))


def seen_id(key: Any, stamp: dt.datetime | None) -> str:
    """A seen state's change id: its key and ``updated_at`` (the same state, the same id)."""
    return f"{SEEN_OP}:{key}:{stamp.isoformat() if stamp is not None else ''}"


def seen_states(batch: pa.Table, key: str, read_at: dt.datetime) -> pa.Table | None:
    """Rows a run read whole or by cursor, as states it saw: reading the same state again
    logs nothing new (``seen_id``). Rows of an initial copy keep their kind (``snapshot``)
    and position; others are ``seen``, with no position."""
    if batch.num_rows == 0 or key not in batch.column_names:
        return None
    keys = batch.column(key).to_pylist()
    stamps = (
        batch.column(CURSOR_COLUMN).to_pylist()
        if CURSOR_COLUMN in batch.column_names
        else [None] * len(keys)
    )
    if LSN_COLUMN not in batch.column_names:
        batch = batch.append_column(LSN_COLUMN, pa.nulls(batch.num_rows, pa.int64()))
        batch = batch.append_column(OP_COLUMN, pa.array([SEEN_OP] * batch.num_rows))
    rows = batch.num_rows
    batch = batch.append_column(CHANGE_SEQ_COLUMN, pa.array([0] * rows, pa.int64()))
    batch = batch.append_column(
        CHANGED_AT_COLUMN, pa.array([read_at] * rows, pa.timestamp("us", tz="UTC"))
    )
    ids = [seen_id(k, stamp) for k, stamp in zip(keys, stamps, strict=True)]
    return nullable(batch.append_column(CHANGE_ID_COLUMN, pa.array(ids, pa.string())))


def seen_rows(rows: list[dict[str, Any]], key: str, read_at: dt.datetime) -> list[dict[str, Any]]:
    """Dict rows (repaired by a reconciliation, or raw's when a change log starts) as states
    seen, like ``seen_states``; dlt's own columns and the deletion flag dropped."""
    return [
        {
            **{n: v for n, v in row.items() if not n.startswith("_")},
            LSN_COLUMN: None,
            OP_COLUMN: SEEN_OP,
            CHANGE_SEQ_COLUMN: 0,
            CHANGED_AT_COLUMN: read_at,
            CHANGE_ID_COLUMN: seen_id(row[key], row.get(CURSOR_COLUMN)),
        }
        for row in rows
    ]


def gone_rows(
    tombstones: list[dict[str, Any]], key: str, read_at: dt.datetime
) -> list[dict[str, Any]]:
    """Tombstones as deletes of their keys at ``read_at``: every other column null."""
    return [
        {
            **{n: None for n in row if not n.startswith("_")},
            key: row[key],
            LSN_COLUMN: None,
            OP_COLUMN: DELETE_OP,
            CHANGE_SEQ_COLUMN: 0,
            CHANGED_AT_COLUMN: read_at,
            CHANGE_ID_COLUMN: f"{DELETE_OP}:{row[key]}:{read_at.isoformat()}",
        }
        for row in tombstones
    ]


def observed(items: Any, key: str, read_at: dt.datetime) -> Iterator[Any]:
    """The states and deletions a run observed in one item of a table's resource: an Arrow
    batch (states, as Arrow), or dict rows (tombstones, rows a reconciliation repaired: as
    dict rows, so that deletions carrying only a key never meet a typed batch)."""
    if isinstance(items, pa.Table):
        batch = seen_states(items, key, read_at)
        if batch is not None:
            yield batch
        return
    rows = [row for row in (items if isinstance(items, list) else [items]) if key in row]
    states = [row for row in rows if not row.get(DELETED_FLAG_COLUMN)]
    if states:
        yield seen_rows(states, key, read_at)
    gone = [row for row in rows if row.get(DELETED_FLAG_COLUMN)]
    if gone:
        yield gone_rows(gone, key, read_at)
