"""Change data capture: the operations tables read from the server's log, not polled.

A run opens one ``LogCapture`` for all the tables (``open_capture``), in one of two modes:

- **copy**, when the warehouse follows no usable slot (the first run, a slot dropped or
  invalidated, a full refresh): a new slot is created with an exported snapshot, every table
  is read whole inside that snapshot, and the keys raw holds that the snapshot lacks become
  tombstones. The slot's starting point and the snapshot are the same instant, so the changes
  the slot then gives are exactly those the copy does not hold: nothing lost, nothing twice.
- **changes**, otherwise: the slot's changes up to the current end of the log are read once
  (``pg_logical_slot_peek_binary_changes``: whole transactions, in commit order, without
  consuming them), folded to the last change per key, and handed to the tables' resources:
  inserted and updated rows to merge, deleted (and truncated) keys as tombstones.

``confirm`` is called after the units: only when every one loaded does the warehouse record the
new position and the slot advance (see ``slot``). A run that failed or died leaves the slot
where it was, and the next run reads the same changes again; the apply is by last change per
key, and transactions already recorded as applied are skipped by position, so nothing doubles.

Every raw row carries the log position of its last change (``_cdc_lsn``) and its kind
(``_cdc_op``: ``snapshot``, ``insert``, ``update``).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from ingestion.database.replication import flushed_log_end
from ingestion.sources.ops.change_log import HISTORY_TABLES, logged_history
from ingestion.sources.ops.folded_changes import (
    SNAPSHOT_OP,
    Commit,
    LoggedChange,
    TableChanges,
    TypedRows,
    fill_unchanged,
    text_or_none,
    typed_rows,
)
from ingestion.sources.ops.pgoutput import (
    DELETE,
    UNCHANGED,
    Begin,
    Change,
    Relation,
    Truncate,
    decode,
    int_to_lsn,
)
from ingestion.sources.ops.slot import (
    PUBLICATION,
    CaptureUnavailableError,
    NewSlot,
    Position,
    advance,
    column_types,
    copy_reason,
    create_slot,
    drop_other_generations,
    ensure_publication,
    missing_capability,
    read_position,
    retyped,
    table_ids,
    write_position,
)
from ingestion.sources.ops.text_values import (
    COLUMNS_QUERY,
    SESSION_SETUP,
    SourceColumn,
    arrow_type,
    typed_column,
)

log = logging.getLogger(__name__)

SLOT_BUSY_ATTEMPTS = 20
SLOT_BUSY_WAIT_SECONDS = 0.5
"""How long a read waits for a slot another session (a status check) is reading."""
FETCH_ROWS = 20_000
"""Log messages (or copied rows) fetched per round trip."""


@dataclass
class LogCapture:
    """What one run reads from the log (or copies), shared by the tables' load units."""

    schema: str
    dataset: str
    tables: dict[str, str]
    """Table -> primary key column."""
    warehouse_database: str
    ops: psycopg2.extensions.connection
    position: Position | None
    new_slot: NewSlot | None = None
    end_lsn: int = 0
    changes: dict[str, TableChanges] = field(default_factory=dict)
    reason: str = ""
    """Why this run copies (empty when it reads changes)."""
    present: dict[str, int] = field(default_factory=dict)
    """The tables the source has now, with their object ids (a missing one fails its unit)."""
    types: dict[str, dict[str, str]] = field(default_factory=dict)
    """Their column types now (``Position.column_types``)."""
    observed_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))
    """The source's clock before this run's copy began (a change logged later commits after
    it): the time of the states a copy or a re-read sees, in the change log."""

    def table_of(self, relation: Relation) -> str | None:
        """Which of ``tables`` a relation message is: by its object id as recorded at the
        copy (a renamed table keeps its changes), else by its name."""
        recorded = self.position.relations if self.position else {}
        for table, oid in (recorded or self.present).items():
            if oid == relation.oid:
                return table
        if relation.schema == self.schema and relation.table in self.tables and not recorded:
            return relation.table
        return None

    reread: dict[str, str] = field(default_factory=dict)
    """Tables read whole again in this changes run, with why: a column whose type changed
    since the last read (``alter ... type ... using`` rewrites values with no row change in the
    log). Their changes from the log are ignored this run; the read happens after the log's
    end, and the changes between the two are applied again next run, which converges."""

    @property
    def copying(self) -> bool:
        return self.new_slot is not None

    def reads_whole(self, table: str) -> bool:
        """Whether ``table`` is read whole this run (an initial copy, or a re-read)."""
        return self.copying or table in self.reread

    # -- copy mode ---------------------------------------------------------------------------
    def source_columns(self, relation: int | str) -> list[SourceColumn]:
        """A table's columns, by its object id or its quoted name."""
        with self.ops.cursor() as cursor:
            cursor.execute(COLUMNS_QUERY.replace("%s", "%s::regclass"), (relation,))
            return [SourceColumn(*row) for row in cursor.fetchall()]

    def copied_rows(self, table: str) -> Iterator[TypedRows]:
        """The table as the snapshot holds it (or, re-read, as it is now), in typed batches."""
        columns = self.source_columns(f'"{self.schema}"."{table}"')
        query = sql.SQL("select {} from {}").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c.name)) for c in columns),
            sql.Identifier(self.schema, table),
        )
        lsn = self.new_slot.consistent_lsn if self.new_slot else self.end_lsn
        with self.ops.cursor(name=f"copy_{table}") as cursor:
            cursor.itersize = FETCH_ROWS
            cursor.execute(query)
            while rows := cursor.fetchmany(FETCH_ROWS):
                yield typed_rows(
                    columns,
                    list(zip(*rows, strict=True)),
                    [lsn] * len(rows),
                    [SNAPSHOT_OP] * len(rows),
                )

    def copied_keys(self, table: str) -> set[Any]:
        """Every key the snapshot (or, re-read, the table now) holds for ``table``."""
        key = self.tables[table]
        with self.ops.cursor(name=f"keys_{table}") as cursor:
            cursor.itersize = FETCH_ROWS * 5
            cursor.execute(
                sql.SQL("select {} from {}").format(
                    sql.Identifier(key), sql.Identifier(self.schema, table)
                )
            )
            return {row[0] for row in cursor}

    # -- changes mode ------------------------------------------------------------------------
    def read_changes(self) -> None:
        """Fold the slot's changes up to the end of the log into ``changes``.

        A slot is read by one session at a time: while another one peeks at it (``shopflow
        status`` measuring the lag), the read waits and tries again, a bounded number of times.
        """
        for attempt in range(1, SLOT_BUSY_ATTEMPTS + 1):
            try:
                self._read_changes_once()
                return
            except psycopg2.errors.ObjectInUse:
                self.ops.rollback()
                self.changes = {}
                if attempt == SLOT_BUSY_ATTEMPTS:
                    raise
                log.info("ops: the slot is being read by another session; trying again")
                time.sleep(SLOT_BUSY_WAIT_SECONDS)

    def _read_changes_once(self) -> None:
        assert self.position is not None
        self.end_lsn = flushed_log_end(self.ops)
        relations: dict[int, tuple[str, list[str], int]] = {}
        skip = False
        commit: Commit | None = None
        with self.ops.cursor(name="log_changes") as cursor:
            cursor.itersize = FETCH_ROWS
            cursor.execute(
                "select (lsn - '0/0'::pg_lsn)::bigint, data"
                " from pg_logical_slot_peek_binary_changes(%s, %s::pg_lsn, null,"
                " 'proto_version', '1', 'publication_names', %s)",
                (self.position.slot, int_to_lsn(self.end_lsn), PUBLICATION),
            )
            for lsn, data in cursor:
                message = decode(bytes(data))
                if isinstance(message, Begin):
                    # applied and recorded already (the slot advance after it did not happen)
                    skip = message.final_lsn < self.position.applied_lsn
                    commit = Commit(message.final_lsn, message.commit_time)
                elif isinstance(message, Relation):
                    # sent once per read, maybe inside a skipped transaction: kept for later ones
                    relations[message.oid] = self.describe(message)
                elif skip or message is None:
                    continue
                elif isinstance(message, Change):
                    self.fold(relations, lsn, message, commit)
                elif isinstance(message, Truncate):
                    for oid in message.relation_oids:
                        if oid in relations and relations[oid][0] in self.changes:
                            self.changes[relations[oid][0]].truncate(commit)

    def describe(self, relation: Relation) -> tuple[str, list[str], int]:
        """A relation message: (table, column names, key position); records the types."""
        names = [c.name for c in relation.columns]
        name = self.table_of(relation)
        if name is None:
            return (relation.table, names, -1)
        kept: list[LoggedChange] | None = [] if name in HISTORY_TABLES else None
        table = self.changes.setdefault(name, TableChanges(self.tables[name], history=kept))
        described = {c.name: c for c in self.source_columns(relation.oid)}
        for column in relation.columns:
            with self.ops.cursor() as cursor:
                cursor.execute(
                    "select format_type(%s, %s)", (column.type_oid, column.type_modifier)
                )
                kind = str(cursor.fetchone()[0])  # type: ignore[index]
            nullable = described[column.name].nullable if column.name in described else True
            table.columns[column.name] = SourceColumn(column.name, kind, nullable)
        if table.key not in names:
            raise CaptureUnavailableError(
                f"{self.schema}.{relation.table} no longer has its key column {table.key}"
            )
        return (name, names, names.index(table.key))

    def fold(
        self,
        relations: dict[int, tuple[str, list[str], int]],
        lsn: int,
        change: Change,
        commit: Commit | None,
    ) -> None:
        table_name, names, key_at = relations[change.relation_oid]
        table = self.changes.get(table_name)
        if table is None or key_at < 0:
            return
        table.changes += 1
        if change.kind == DELETE:
            assert change.old is not None
            table.delete(str(change.old[key_at]), lsn, commit)
            return
        assert change.new is not None
        key = str(change.new[key_at])
        was = None if change.old is None else str(change.old[key_at])
        table.write(key, lsn, change.kind, dict(zip(names, change.new, strict=True)), was, commit)
        if was is not None and was != key:
            table.delete(was, lsn, commit)  # the key itself changed

    def upserts(self, table: str, raw_cursor: Any) -> TypedRows | None:
        """The rows whose last change wrote them, typed; TOASTed values the changes did not
        send are taken from raw (``raw_cursor``: a ``RawCursor`` on the warehouse)."""
        folded = self.changes.get(table)
        if folded is None or not folded.rows or table in self.reread:
            return None
        names = list(folded.columns)
        unchanged = {
            k: [n for n in names if values.get(n, None) is UNCHANGED]
            for k, (_, _, values) in folded.rows.items()
            if any(v is UNCHANGED for v in values.values())
        }
        if unchanged:
            fill_unchanged(raw_cursor, self.dataset, table, folded, unchanged)
        keys = list(folded.rows)
        return typed_rows(
            [folded.columns[n] for n in names],
            [[text_or_none(folded.rows[k][2].get(n)) for k in keys] for n in names],
            [folded.rows[k][0] for k in keys],
            [folded.rows[k][1] for k in keys],
        )

    def history(
        self, table: str, raw_cursor: Any, raw_keys: Callable[[], set[Any]]
    ) -> TypedRows | None:
        """Every change of ``table`` read from the log, for its change log (see
        ``change_log``); None when nothing changed or the table is read whole this run."""
        folded = self.changes.get(table)
        if folded is None or table in self.reread:
            return None
        return logged_history(folded, raw_cursor, self.dataset, table, raw_keys)

    def deleted_keys(self, table: str, raw_keys: Callable[[], set[Any]]) -> list[Any]:
        """The keys the log deleted (or truncated) and nothing wrote again, typed like raw's
        key; ``raw_keys`` (every key raw holds) is asked only after a truncate."""
        folded = self.changes.get(table)
        if folded is None:
            return []
        if folded.truncated:
            written = set(folded.rows)
            return [k for k in raw_keys() if str(k) not in written]
        key_type = arrow_type(folded.columns[folded.key].type)
        return typed_column(list(folded.deleted), key_type).to_pylist()

    # -- after the load ----------------------------------------------------------------------
    def confirm(self, warehouse: psycopg2.extensions.connection, all_loaded: bool) -> None:
        """After the units: record the new position and advance the slot, only if all loaded."""
        if not all_loaded:
            log.warning(
                "ops: not every table loaded; the log position stays at %s and the next run "
                "reads those changes again",
                int_to_lsn(self.position.applied_lsn) if self.position else "the initial copy",
            )
            return
        now = dt.datetime.now(dt.UTC)
        if self.new_slot is not None:
            resyncs = (self.position.resyncs + 1) if self.position else 0
            position = Position(
                self.new_slot.name,
                self.new_slot.generation,
                self.new_slot.consistent_lsn,
                now,
                resyncs,
                dict(self.present),
                self.types,
            )
        else:
            assert self.position is not None
            position = Position(
                self.position.slot,
                self.position.generation,
                max(self.end_lsn, self.position.applied_lsn),
                self.position.copied_at,
                self.position.resyncs,
                self.position.relations or dict(self.present),
                self.types,
            )
        with warehouse, warehouse.cursor() as cursor:
            write_position(cursor, self.dataset, position)
        self.ops.rollback()  # the snapshot's transaction (or the peek's) is over
        self.ops.set_session(isolation_level="READ COMMITTED", readonly=False)
        with self.ops.cursor() as cursor:
            # the slot replaced by this copy, or one a failed copy or full refresh left behind
            dropped = drop_other_generations(cursor, self.warehouse_database, position.slot)
            if dropped:
                log.info("ops: dropped the replaced slot(s) %s", ", ".join(dropped))
            advance(cursor, position.slot, position.applied_lsn)
            self.ops.commit()


@contextmanager
def open_capture(
    ops_url: str,
    warehouse_url: str,
    warehouse_database: str,
    schema: str,
    dataset: str,
    tables: dict[str, str],
) -> Iterator[LogCapture]:
    """The run's capture: its mode decided, its changes read (or its snapshot open)."""
    with closing(psycopg2.connect(ops_url)) as ops:
        with ops.cursor() as cursor:
            cursor.execute(SESSION_SETUP)
            missing = missing_capability(cursor)
            if missing:
                raise CaptureUnavailableError(
                    f"SHOPFLOW_OPS_CAPTURE=cdc cannot read the operations database's log: "
                    f"{missing} (or set SHOPFLOW_OPS_CAPTURE=cursor)"
                )
            present = table_ids(cursor, schema, list(tables))
            if present:
                ensure_publication(cursor, schema, list(present))
            types = column_types(cursor, present)
        ops.commit()
        with closing(psycopg2.connect(warehouse_url)) as warehouse, warehouse.cursor() as cursor:
            position = read_position(cursor, dataset)
        capture = LogCapture(schema, dataset, tables, warehouse_database, ops, position)
        capture.present, capture.types = present, types
        capture.reason = copy_reason(ops, position, present)
        with ops.cursor() as cursor:
            cursor.execute("select clock_timestamp()")
            capture.observed_at = cursor.fetchone()[0]  # type: ignore[index]
        ops.commit()
        if capture.reason:
            # the first copy is the normal start; a copy after that is a resync worth a warning
            say = log.warning if position is not None else log.info
            say("ops: %s: a new slot and an initial copy of every table", capture.reason)
            with ops.cursor() as cursor:
                last = position.generation if position else 0
                capture.new_slot = create_slot(ops_url, warehouse_database, cursor, last)
            ops.commit()
            try:
                ops.set_session(isolation_level="REPEATABLE READ", readonly=True)
                with ops.cursor() as cursor:
                    cursor.execute("set transaction snapshot %s", (capture.new_slot.snapshot,))
            finally:
                capture.new_slot.close()  # once imported, the snapshot lives in this transaction
        else:
            assert position is not None
            capture.reread = retyped(position, types)
            for table, why in capture.reread.items():
                log.warning("ops.%s: %s: the table is read whole again", table, why)
            capture.read_changes()
        yield capture
