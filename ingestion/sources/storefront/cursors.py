"""The storefront cursors, kept in the resources' dlt state, and the sales lookback window.

The cursors are kept by hand rather than with ``dlt.sources.incremental``: dlt's filter
drops every row older than the cursor, and two kinds of rows must get through: records
asked for again after a rejection (their ``updated_at``/``sold_at`` is behind the cursor),
and late sales (dated before the newest sale loaded). The API filters server-side
(``updated_since``, date windows), so nothing else needs dlt's filter.

Sales are re-read over a lookback window before the newest ``sold_at`` each run, so a sale
reported late lands. Re-reading must not reload what is already there (that would give
unchanged rows new ``_dlt_load_id``/``_dlt_id`` on every run), so the state keeps a
fingerprint per sale of the window, and a re-read sale with the same fingerprint is dropped
before it reaches dlt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from typing import Any

from dlt.common.pendulum import pendulum

from ingestion.sources.cursor_trust import METRIC_FUTURE_STAMPED
from ingestion.sources.validation import count_metric

log = logging.getLogger(__name__)

CURSOR_STATE_KEY = "cursor"
RECENT_SALES_STATE_KEY = "recent_sales"
FUTURE_STATE_KEY = "future_stamped"


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return pendulum.instance(value)
    parsed = pendulum.parse(value)
    if not isinstance(parsed, dt.datetime):  # a date, time or duration: not what we store
        raise ValueError(f"the stored cursor {value!r} is not a timestamp")
    return parsed


def read_cursor(state: dict[str, Any], field: str) -> dt.datetime | None:
    """The last ``field`` value loaded, from the resource state.

    Falls back to what an earlier version stored through ``dlt.sources.incremental``, so a
    warehouse loaded before the cursors were kept by hand carries on where it was.
    """
    value = state.get(CURSOR_STATE_KEY)
    if value is None:
        value = (state.get("incremental") or {}).get(field, {}).get("last_value")
    return _as_datetime(value)


def write_cursor(state: dict[str, Any], value: dt.datetime | None) -> None:
    """Store the cursor (ISO-8601 text) when there is one."""
    if value is not None:
        state[CURSOR_STATE_KEY] = value.isoformat()


def later(first: dt.datetime | None, second: dt.datetime | None) -> dt.datetime | None:
    """The later of two optional times."""
    if first is None or second is None:
        return first or second
    return max(first, second)


def max_before(rows: list[dict[str, Any]], field: str, now: dt.datetime) -> dt.datetime | None:
    """The newest ``field`` of ``rows`` not after ``now``: a stamp from the future never
    becomes the cursor (None when no row qualifies)."""
    return max((row[field] for row in rows if row[field] <= now), default=None)


def flag_future(rows: list[dict[str, Any]], resource: str, field: str, now: dt.datetime) -> None:
    """Count (metric ``future_stamped``) and log the rows stamped after ``now``: they load,
    and ``max_before`` keeps them from the cursor."""
    future = [row for row in rows if row[field] > now]
    if not future:
        return
    count_metric(METRIC_FUTURE_STAMPED, len(future))
    log.warning(
        "%s: %d record(s) stamped after the API's clock (%s) loaded and flagged: %s",
        resource,
        len(future),
        now.isoformat(),
        ", ".join(f"{row[field].isoformat()}" for row in future[:5]),
    )


def fingerprint(record: dict[str, Any]) -> str:
    """A short, stable digest of a cleaned record's values."""
    text = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class RecentSales:
    """Fingerprints of the sales inside the lookback window, kept in the ``sales`` state."""

    def __init__(self, state: dict[str, Any], lookback: dt.timedelta) -> None:
        self._state = state
        self._lookback = lookback
        self._entries: dict[str, list[str]] = dict(state.get(RECENT_SALES_STATE_KEY) or {})

    @staticmethod
    def first_day(cursor: dt.datetime, lookback: dt.timedelta) -> dt.date:
        """The first day re-read when the newest sale loaded is at ``cursor``."""
        return (cursor - lookback).date()

    def unchanged(self, sale: dict[str, Any]) -> bool:
        """Whether this exact sale was loaded already; if not, remember it as loaded now."""
        key = str(sale["partner_order_id"])
        digest = fingerprint(sale)
        entry = self._entries.get(key)
        if entry is not None and entry[1] == digest:
            return True
        self._entries[key] = [sale["sold_at"].isoformat(), digest]
        return False

    def save(self, cursor: dt.datetime | None) -> None:
        """Keep only the sales on or after the first day the next run re-reads."""
        if cursor is not None:
            keep_from = self.first_day(cursor, self._lookback)
            self._entries = {
                key: entry
                for key, entry in self._entries.items()
                if dt.datetime.fromisoformat(entry[0]).date() >= keep_from
            }
        self._state[RECENT_SALES_STATE_KEY] = self._entries


class FutureRecords:
    """Fingerprints of the records stamped after the clock, kept in the resource state.

    Such a record is listed again on every run until the clock passes its stamp (it is after
    the cursor); it loads and is flagged the first time, and again only when it changed.
    """

    def __init__(self, state: dict[str, Any], key: str, field: str) -> None:
        self._state = state
        self._key = key
        self._field = field
        self._entries: dict[str, list[str]] = dict(state.get(FUTURE_STATE_KEY) or {})

    def fresh(self, rows: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
        """``rows`` without the future-stamped ones already loaded unchanged."""
        kept: list[dict[str, Any]] = []
        for row in rows:
            if row[self._field] > now:
                key, digest = str(row[self._key]), fingerprint(row)
                entry = self._entries.get(key)
                if entry is not None and entry[1] == digest:
                    continue
                self._entries[key] = [row[self._field].isoformat(), digest]
            kept.append(row)
        return kept

    def save(self, now: dt.datetime) -> None:
        """Forget the records the clock has passed (the cursor reads them as usual now)."""
        self._entries = {
            key: entry
            for key, entry in self._entries.items()
            if dt.datetime.fromisoformat(entry[0]) > now
        }
        self._state[FUTURE_STATE_KEY] = self._entries
