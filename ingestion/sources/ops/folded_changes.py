"""One run's changes of a table, folded to the last change per key, and typed for the load.

The log gives every change; a run applies the last one per key (``TableChanges``). Rows are
then typed from their text form (``typed_rows``), each with its log position (``_cdc_lsn``)
and kind of change (``_cdc_op``: ``snapshot``, ``insert``, ``update``); a value its raw column
cannot take sets its row aside as a rejected record (``TypedRows.refused``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
from psycopg2 import sql

from ingestion.sources.ops.pgoutput import UNCHANGED
from ingestion.sources.ops.text_values import SourceColumn, typed_table

LSN_COLUMN = "_cdc_lsn"
OP_COLUMN = "_cdc_op"
SNAPSHOT_OP = "snapshot"
DELETE_OP = "delete"
TRUNCATE = "truncate"

Values = dict[str, object]


@dataclass(frozen=True)
class Commit:
    """The transaction a change belongs to: its commit position and time."""

    lsn: int
    time: dt.datetime


@dataclass(frozen=True)
class LoggedChange:
    """One change from the log, in order: ``seq`` numbers it within its transaction."""

    commit: Commit
    seq: int
    kind: str
    key: str
    values: Values
    """Every column's value (an empty dict for a delete or a truncate)."""


def log_change(
    history: list[LoggedChange], commit: Commit, kind: str, key: str, values: Values
) -> None:
    """Append a change; a change's number restarts at 0 with each transaction."""
    last = history[-1] if history else None
    seq = last.seq + 1 if last is not None and last.commit.lsn == commit.lsn else 0
    history.append(LoggedChange(commit, seq, kind, key, values))


@dataclass
class TableChanges:
    """One table's changes in this run, folded to the last one per key."""

    key: str
    columns: dict[str, SourceColumn] = field(default_factory=dict)
    """Every column seen (the latest description wins)."""
    rows: dict[str, tuple[int, str, Values]] = field(default_factory=dict)
    """Key (as text) -> (log position, kind, values) of keys whose last change wrote a row."""
    deleted: dict[str, int] = field(default_factory=dict)
    """Key (as text) -> log position of keys whose last change deleted them."""
    truncated: bool = False
    """A truncate came: every key raw holds that no later change wrote is gone."""
    raw_keys: dict[str, str] = field(default_factory=dict)
    """Key -> the older key raw holds the row under (its key changed in this run)."""
    changes: int = 0
    """Changes of the table read from the log in this run (before folding)."""
    history: list[LoggedChange] | None = None
    """Every change in log order, for a table whose change log is kept (None: not kept)."""

    @property
    def empty(self) -> bool:
        """Whether nothing is left to apply (no row written, no key deleted, no truncate)."""
        return not (self.rows or self.deleted or self.truncated)

    def write(
        self,
        key: str,
        lsn: int,
        kind: str,
        values: Values,
        was: str | None = None,
        commit: Commit | None = None,
    ) -> None:
        """An insert or update of ``key`` (``was``: its key before, when the update changed it);
        values the log did not send (TOASTed, unchanged) come from the row's earlier change in
        this run, if any, else from raw's copy under the key raw holds it by (later)."""
        source = key if was is None else was
        earlier = self.rows.get(source)
        if earlier is not None and any(v is UNCHANGED for v in values.values()):
            values = {
                name: earlier[2].get(name, UNCHANGED) if value is UNCHANGED else value
                for name, value in values.items()
            }
        origin = self.raw_keys.pop(source, source)
        self.rows[key] = (lsn, kind, values)
        self.deleted.pop(key, None)
        if origin != key:
            self.raw_keys[key] = origin
        self.remember(commit, kind, key, values)

    def delete(self, key: str, lsn: int, commit: Commit | None = None) -> None:
        self.rows.pop(key, None)
        self.raw_keys.pop(key, None)
        self.deleted[key] = lsn
        self.remember(commit, DELETE_OP, key, {})

    def truncate(self, commit: Commit | None = None) -> None:
        self.rows.clear()
        self.deleted.clear()
        self.raw_keys.clear()
        self.truncated = True
        self.remember(commit, TRUNCATE, "", {})

    def remember(self, commit: Commit | None, kind: str, key: str, values: Values) -> None:
        """Log the change when this table's changes are kept."""
        if self.history is not None and commit is not None:
            log_change(self.history, commit, kind, key, values)


def text_or_none(value: object) -> str | None:
    """A value from the log as text for ``typed_table`` (NULL and unsent values as None)."""
    return None if value is None or value is UNCHANGED else str(value)


@dataclass(frozen=True)
class TypedRows:
    """A batch of rows ready to load, and those set aside: a value that cannot take its
    column's raw type (``NaN`` in a ``numeric(12,2)``) makes its row a rejected record (the
    reason, and the row as the log or the copy gave it) instead of failing the table."""

    batch: pa.Table
    refused: list[tuple[str, dict[str, str | None]]]


def typed_rows(
    columns: list[SourceColumn],
    values: list[Any],
    lsns: list[int],
    ops: list[str],
) -> TypedRows:
    """Column-wise text values with each row's log position and kind of change, typed."""
    batch, refused = typed_table(columns, values)
    kept = [row for row in range(len(lsns)) if row not in refused]
    rows_refused = [
        (reason, {c.name: values[i][row] for i, c in enumerate(columns)})
        for row, reason in sorted(refused.items())
    ]
    batch = with_log_columns(batch, [lsns[r] for r in kept], [ops[r] for r in kept])
    return TypedRows(batch, rows_refused)


def with_log_columns(batch: pa.Table, lsns: list[int], ops: list[str]) -> pa.Table:
    """``batch`` with each row's log position and kind of change."""
    batch = batch.append_column(LSN_COLUMN, pa.array(lsns, type=pa.int64()))
    return batch.append_column(OP_COLUMN, pa.array(ops, type=pa.string()))


RawCursor = Callable[[], AbstractContextManager[Any]]
"""Opens a cursor on the warehouse: called only when a value must be read from raw, as most
runs need none and a connection costs more than the rest of a small table's apply."""


def held_text_values(
    cursor: Any, dataset: str, table: str, key: str, keys: list[str], columns: list[str]
) -> dict[str, dict[str, str | None]]:
    """Raw's copy of ``columns`` for the rows of ``keys``, as text by key (the log's form)."""
    cursor.execute(
        sql.SQL("select {}::text, {} from {} where {}::text = any(%s)").format(
            sql.Identifier(key),
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
            sql.Identifier(dataset, table),
            sql.Identifier(key),
        ),
        (keys,),
    )
    return {row[0]: dict(zip(columns, row[1:], strict=True)) for row in cursor.fetchall()}


def fill_unchanged(
    raw: RawCursor, dataset: str, table: str, folded: TableChanges, unchanged: dict[str, list[str]]
) -> None:
    """Give rows the TOASTed values their changes did not send, from raw's copy."""
    origins = {key: folded.raw_keys.get(key, key) for key in unchanged}
    columns = sorted({n for names in unchanged.values() for n in names})
    with raw() as cursor:
        held = held_text_values(cursor, dataset, table, folded.key, list(origins.values()), columns)
    for key, names in unchanged.items():
        values = folded.rows[key][2]
        for name in names:
            values[name] = held.get(origins[key], {}).get(name)
