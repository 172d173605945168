"""The dlt parts that fill a table's change log (see ``change_log``), in either reader.

- ``<log>``, a resource of its own: what raw already held when the change log is new (a
  warehouse loaded before the log existed: its rows as states seen), then, from the
  write-ahead log, every change of the run (``LogCapture.history``);
- a step on the table's own resources (``ChangeLogTee``): the states its rows resource read
  and the keys its deletions resource found gone, every run for the cursor reader, on an
  initial copy or a re-read for the log reader. They ride along the same read (a step, not a
  dlt transformer: a transformer's parent is evaluated again, reading the source twice).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import dlt
import pyarrow as pa
from dlt.extract.hints import HintsMeta
from dlt.extract.items_transform import YieldMapItem
from dlt.extract.resource import DltResource

from ingestion.sources.ops.capture import LogCapture
from ingestion.sources.ops.change_log import (
    CHANGE_LOG_HINTS,
    HISTORY_TABLES,
    observed,
    seen_rows,
)
from ingestion.sources.ops.helpers import active_pipeline, warehouse_keys
from ingestion.sources.validation import rejected_record

log = logging.getLogger(__name__)

SEED_BATCH_ROWS = 50_000


def change_log_resource_names(table: str) -> tuple[str, ...]:
    """The resource of ``table``'s change log (none for a table without history)."""
    log_table = HISTORY_TABLES.get(table)
    return (log_table,) if log_table else ()


def with_change_log(
    table: str,
    key: str,
    rows: DltResource,
    deletions: DltResource,
    capture: LogCapture | None = None,
) -> list[DltResource]:
    """``rows`` and ``deletions`` (``table``'s resources), plus its change log's resource and
    steps when it keeps one; ``capture``: the log reader's, or None for the cursor reader."""
    log_table = HISTORY_TABLES.get(table)
    if log_table is None:
        return [rows, deletions]
    read_at = capture.observed_at if capture is not None else dt.datetime.now(dt.UTC)

    def observing() -> bool:
        return capture is None or capture.reads_whole(table)

    for resource in (rows, deletions):
        resource.add_step(ChangeLogTee(log_table, key, read_at, observing))
    logged = dlt.resource(
        logged_changes(table, log_table, key, read_at, capture),
        name=log_table,
        table_name=log_table,
        **CHANGE_LOG_HINTS,
    )
    return [rows, deletions, logged]


class ChangeLogTee(YieldMapItem):
    """A step passing every item on (whole: a list stays one item), followed by what it
    holds for the change log (states, deletions), routed there as a table variant. It sits
    behind the records-in count (``RecordsInCounter``): change log rows are not records read."""

    placement_affinity: ClassVar[float] = 1.3

    def __init__(
        self, log_table: str, key: str, read_at: dt.datetime, active: Callable[[], bool]
    ) -> None:
        def tee(item: Any, meta: Any = None) -> Iterator[Any]:
            yield item
            if isinstance(meta, HintsMeta) or not active():  # e.g. a rejected record
                return
            for batch in observed(item, key, read_at):
                yield dlt.mark.with_hints(
                    batch, change_log_variant(log_table, batch), create_table_variant=True
                )

        super().__init__(tee)
        self._tee = tee

    def __call__(self, item: Any, meta: Any = None) -> Iterator[Any]:
        return self._tee(item, meta)


def change_log_variant(log_table: str, batch: Any) -> Any:
    """dlt hints routing ``batch`` to the change log: its own key and disposition, and every
    column nullable (the variant starts from the resource's hints, whose columns may be NOT
    NULL: a delete carries the key only)."""
    names = batch.column_names if isinstance(batch, pa.Table) else list(batch[0])
    return dlt.mark.make_hints(
        table_name=log_table,
        merge_key="",
        columns=[{"name": name, "nullable": True} for name in names],
        **CHANGE_LOG_HINTS,
    )


def logged_changes(
    table: str, log_table: str, key: str, read_at: dt.datetime, capture: LogCapture | None
) -> Iterator[Any]:
    """Raw's rows when the change log is new, then the run's changes from the log."""
    pipeline = active_pipeline()
    with pipeline.sql_client() as client:  # type: ignore[attr-defined]
        yield from seed_from_raw(client, table, log_table, key, read_at)
        if capture is None:
            return
        with client.native_connection.cursor() as raw:
            history = capture.history(table, raw, lambda: warehouse_keys(pipeline, table, key))
    if history is None:
        return
    for reason, payload in history.refused:
        log.warning("ops.%s: a change the change log cannot hold: %s", table, reason)
        yield rejected_record(log_table, reason, payload)
    if history.batch.num_rows:
        yield history.batch


def seed_from_raw(
    client: Any, table: str, log_table: str, key: str, read_at: dt.datetime
) -> Iterator[list[dict[str, Any]]]:
    """Every row raw holds, as states seen, when raw has rows and the change log does not
    exist yet (a warehouse loaded before change logs were kept): history starts from them."""
    if has_table(client, log_table) or not has_table(client, table):
        return
    seeded = 0
    with client.execute_query(f"select * from {client.make_qualified_table_name(table)}") as cur:
        names = [column[0] for column in cur.description]
        while rows := cur.fetchmany(SEED_BATCH_ROWS):
            seeded += len(rows)
            yield seen_rows([dict(zip(names, row, strict=True)) for row in rows], key, read_at)
    if seeded:
        log.info("ops.%s: change log started from the %d row(s) raw holds", table, seeded)


def has_table(client: Any, table: str) -> bool:
    """Whether the warehouse's dataset holds ``table``."""
    rows = client.execute_sql(
        "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
        client.dataset_name,
        table,
    )
    return bool(rows)
