"""The operations tables' ``updated_at`` cursor, kept so that no stamp can fool it.

dlt's own incremental cursor trusts the stamps: one row stamped in the future moves the
cursor past every later change of its table, and the table then loads ``0 rows`` for as long
as the stamp stays ahead. Here the cursor is kept by hand in the resource state:

- it never moves past the source's own clock (``clock_query``, read once per run): a row
  stamped later than that still loads, is counted (``future_stamped``) and logged with its
  key, and the next run still reads everything after the clock;
- each run re-reads an overlap before the cursor, so a transaction that commits a little
  late with an earlier stamp, or a row given exactly the cursor's stamp after the last read,
  still lands;
- a re-read row whose key and stamp were loaded already is dropped before it reaches dlt (the
  state remembers the keys and stamps of the overlap), so the overlap reloads nothing.

What the overlap cannot see (a change stamped long before the cursor, a restored row with its
old stamp, a change without a new stamp) is the range reconciliation's job (``reconcile``).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from dlt.common.pendulum import pendulum

from ingestion.sources.cursor_trust import METRIC_FUTURE_STAMPED
from ingestion.sources.ops.settings import CURSOR_COLUMN
from ingestion.sources.validation import count_metric

log = logging.getLogger(__name__)

CURSOR_STATE_KEY = "cursor"
RECENT_STATE_KEY = "recent"
SHOWN_KEYS = 5
"""Keys of future-stamped rows named in the log line; the count says how many in all."""


def as_utc(value: Any) -> dt.datetime | None:
    """A stored or read timestamp as an aware UTC datetime (None stays None)."""
    if value is None:
        return None
    if not isinstance(value, dt.datetime):
        value = pendulum.parse(str(value))
    if not isinstance(value, dt.datetime):
        raise ValueError(f"the stored cursor {value!r} is not a timestamp")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def source_now(engine: sa.Engine, clock_query: str) -> dt.datetime:
    """The source's own "now", asked of the source (``select now()`` for a real system).

    A clock query that fails (the clock table is missing) falls back to the database's
    ``now()``, with a warning: a cursor clamped to the wrong clock still never skips a row.
    """
    with engine.connect() as connection:
        try:
            value = connection.execute(sa.text(clock_query)).scalar()
        except sa.exc.DBAPIError as exc:
            log.warning("ops: clock query failed (%s); using the database's now()", exc.orig)
            connection.rollback()
            value = connection.execute(sa.text("select now()")).scalar()
    now = as_utc(value)
    if now is None:
        raise ValueError(f"the ops clock query {clock_query!r} returned no time")
    return now


@dataclass
class ClampedCursor:
    """The cursor of one table: the query filter and the step that admits the rows read."""

    table: str
    key: str
    engine: sa.Engine
    clock_query: str
    overlap: dt.timedelta
    now: dt.datetime | None = None
    since: dt.datetime | None = None
    _recent: dict[str, str] = field(default_factory=dict)

    def _state(self) -> dict[str, Any]:
        return dlt.current.resource_state(self.table)

    def stored(self) -> dt.datetime | None:
        """The stored cursor; falls back to what dlt's incremental kept before this module."""
        state = self._state()
        value = state.get(CURSOR_STATE_KEY)
        if value is None:
            value = (state.get("incremental") or {}).get(CURSOR_COLUMN, {}).get("last_value")
        return as_utc(value)

    def window_start(self) -> dt.datetime | None:
        """Where this run's read starts: the overlap before the cursor clamped to the clock.

        Asked once per run (by the read or by the reconciliation, whichever comes first) and
        kept, so both agree on which rows the read covers. None before the first load.
        """
        if self.now is not None:
            return self.since
        self.now = source_now(self.engine, self.clock_query)
        cursor = self.stored()
        if cursor is None:
            return None
        self.since = min(cursor, self.now) - self.overlap
        since_text = self.since.isoformat()
        recent = dict(self._state().get(RECENT_STATE_KEY) or {})
        # only the overlap's rows (and rows still ahead of the clock) can be read again
        self._recent = {k: stamp for k, stamp in recent.items() if stamp >= since_text}
        self._state()[CURSOR_STATE_KEY] = min(cursor, self.now).isoformat()
        return self.since

    def restrict(self, query: Any, table: sa.Table) -> Any:
        """``sql_table``'s query adapter: the rows stamped from the window start on.

        The cursor is clamped to the source's clock first, so a cursor that an earlier run
        (or dlt's incremental) moved into the future comes back to the present.
        """
        since = self.window_start()
        return query if since is None else query.where(table.c[CURSOR_COLUMN] >= since)

    def admit(self, item: Any) -> Iterator[Any]:
        """The step after the read: drop re-read unchanged rows, flag future ones, move on."""
        if not isinstance(item, pa.Table) or item.num_rows == 0:
            yield item
            return
        self.window_start()  # a no-op when the query adapter asked already
        if self._recent:  # only re-reads can repeat a row: the first load skips this
            keys = [str(value) for value in item.column(self.key).to_pylist()]
            stamps = [as_utc(value) for value in item.column(CURSOR_COLUMN).to_pylist()]
            fresh = [
                stamp is None or self._recent.get(key) != stamp.isoformat()
                for key, stamp in zip(keys, stamps, strict=True)
            ]
            if not all(fresh):
                item = item.filter(pa.array(fresh))
        if item.num_rows:
            self._remember(item)
            yield item

    def _remember(self, item: pa.Table) -> None:
        """Move the cursor (never past the clock) and note the rows the next overlap re-reads."""
        assert self.now is not None
        stamps = item.column(CURSOR_COLUMN)
        now = pa.scalar(self.now, type=stamps.type)
        future = item.filter(pc.fill_null(pc.greater(stamps, now), False))
        newest = as_utc(pc.max(pc.filter(stamps, pc.less_equal(stamps, now))).as_py())
        if future.num_rows:
            newest = self.now  # the clock is as far as a future stamp may take the cursor
            count_metric(METRIC_FUTURE_STAMPED, future.num_rows)
            shown = zip(
                future.column(self.key).to_pylist()[:SHOWN_KEYS],
                future.column(CURSOR_COLUMN).to_pylist()[:SHOWN_KEYS],
                strict=True,
            )
            log.warning(
                "ops.%s: %d row(s) stamped after the source's clock (%s) loaded and flagged;"
                " the cursor stays at the clock: %s",
                self.table,
                future.num_rows,
                self.now.isoformat(),
                ", ".join(f"{self.key}={key} at {stamp}" for key, stamp in shown),
            )
        state = self._state()
        cursor = as_utc(state.get(CURSOR_STATE_KEY))
        if newest is not None and (cursor is None or newest > cursor):
            cursor = newest
        if cursor is None:
            return
        state[CURSOR_STATE_KEY] = cursor.isoformat()
        keep_from = cursor - self.overlap
        band = item.filter(
            pc.fill_null(pc.greater_equal(stamps, pa.scalar(keep_from, type=stamps.type)), False)
        )
        for key, stamp in zip(
            band.column(self.key).to_pylist(), band.column(CURSOR_COLUMN).to_pylist(), strict=True
        ):
            self._recent[str(key)] = as_utc(stamp).isoformat()  # type: ignore[union-attr]
        keep_text = keep_from.isoformat()
        self._recent = {k: s for k, s in self._recent.items() if s >= keep_text}
        state[RECENT_STATE_KEY] = dict(self._recent)
