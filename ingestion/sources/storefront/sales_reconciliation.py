"""Sales the lookback cannot see: the whole history compared with the API, day by day.

Each run re-reads sales only from the lookback before the newest sale loaded, so a sale its
partner reports later than that is never listed again. Every ``every_runs`` runs, the days
before this run's lookback are compared with the raw copy: per date window, the API's
``total`` for the window (one request of one record: the listing announces its total) against
the sales loaded for those days; in a window that differs, each day likewise; a day that
differs is read in full, and its sales not in raw are handed back to be loaded.

A sale the source rejected stays in the API's count, so its day differs on every
reconciliation: it is read again, and skipped here (the retry book asks for it).

Counts cannot see a sale changed in place (its day keeps its count), and the API offers no
digest of a day, so finding one means reading the days in full. Every ``content_every_runs``
runs (``changed_sales``) the days before the lookback are read window by window and each
sale's values (the contract's fields, as loaded) are compared with raw's; the sales missing
or different are loaded. It reads the whole history, so it has its own, slower cadence.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from dlt.destinations.exceptions import DatabaseUndefinedRelation
from dlt.sources.helpers.rest_client import RESTClient

from ingestion.sources.storefront.helpers import clean_sale, date_windows, sales_window
from ingestion.sources.storefront.settings import SALES_PATH
from ingestion.sources.validation import RejectedRecordError

log = logging.getLogger(__name__)

RAW_DAY_COUNTS = (
    "select (sold_at at time zone 'UTC')::date, count(*) from {table} where sold_at < %s group by 1"
)
RAW_DAY_KEYS = "select partner_order_id from {table} where sold_at >= %s and sold_at < %s"
SALE_FIELDS = ("partner_name", "sku", "quantity", "gross_amount", "currency", "sold_at")
"""The fields of the contract compared by the content check, besides the key."""
RAW_SALE_VALUES = (
    f"select partner_order_id, {', '.join(SALE_FIELDS)} from {{table}}"
    " where sold_at >= %s and sold_at < %s"
)


@dataclass(frozen=True)
class Reconciliation:
    """What a reconciliation compares: the API's sales of the days from ``first`` to the day
    before ``before``, ``window_days`` at a time, with the raw copy ``pipeline`` loaded.

    ``already`` tells a sale this run has handed over already (it is not repaired twice).
    """

    client: RESTClient
    pipeline: Any
    page_size: int
    first: dt.date
    before: dt.date
    window_days: int
    already: Callable[[str], bool]

    def windows(self) -> Iterator[tuple[dt.date, dt.date]]:
        """The date windows of the compared days, the last one ending the day before
        ``before``."""
        for start, end in date_windows(self.first, self.window_days):
            if start >= self.before:
                return
            yield start, min(end, self.before - dt.timedelta(days=1))


def api_total(client: RESTClient, first: dt.date, last: dt.date) -> int | None:
    """The number of sales the API announces from ``first`` to ``last`` (inclusive)."""
    params = {"start_date": first.isoformat(), "end_date": last.isoformat(), "limit": 1}
    response = client.get(SALES_PATH, params=params)
    response.raise_for_status()
    body = response.json()
    total = body.get("total") if isinstance(body, dict) else None
    if not isinstance(total, int) or isinstance(total, bool):
        log.warning("sales reconciliation: no total for %s..%s; not compared", first, last)
        return None
    return total


def raw_day_counts(pipeline: Any, before: dt.date) -> dict[dt.date, int]:
    """Sales loaded per UTC day before ``before`` (empty before the first load)."""
    start = dt.datetime.combine(before, dt.time(), tzinfo=dt.UTC)
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name("sales")
        try:
            rows = client.execute_sql(RAW_DAY_COUNTS.format(table=table), start)
        except DatabaseUndefinedRelation:
            return {}
    return {day: int(count) for day, count in rows or []}


def raw_day_keys(pipeline: Any, day: dt.date) -> set[str]:
    """The partner order ids loaded for one UTC day."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name("sales")
        rows = client.execute_sql(
            RAW_DAY_KEYS.format(table=table), start, start + dt.timedelta(days=1)
        )
    return {str(row[0]) for row in rows or []}


def differing_days(scope: Reconciliation, loaded: dict[dt.date, int]) -> Iterator[dt.date]:
    """The compared days whose API count differs from raw's (``loaded``, per day)."""
    for start, end in scope.windows():
        in_raw = sum(n for day, n in loaded.items() if start <= day <= end)
        total = api_total(scope.client, start, end)
        if total is None or total == in_raw:
            continue
        day = start
        while day <= end:
            day_total = api_total(scope.client, day, day)
            if day_total is not None and day_total != loaded.get(day, 0):
                yield day
            day += dt.timedelta(days=1)


def missed_sales(scope: Reconciliation) -> Iterator[list[dict[str, Any]]]:
    """The valid sales of the compared days that raw lacks, one day's list at a time."""
    loaded = raw_day_counts(scope.pipeline, scope.before)
    for day in differing_days(scope, loaded):
        in_raw = raw_day_keys(scope.pipeline, day)
        missing = _sales_to_repair(scope, day, day, _absent(in_raw, scope.already))
        if missing:
            yield missing


RepairTest = Callable[[str, dict[str, Any]], bool]
"""Whether a sale (its key, its cleaned values) needs repairing."""


def _absent(in_raw: set[str], already: Callable[[str], bool]) -> RepairTest:
    return lambda key, _sale: key not in in_raw and not already(key)


def _differing(in_raw: dict[str, tuple[Any, ...]], already: Callable[[str], bool]) -> RepairTest:
    return lambda key, sale: in_raw.get(key) != sale_values(sale) and not already(key)


def _sales_to_repair(
    scope: Reconciliation, first: dt.date, last: dt.date, needs_repair: RepairTest
) -> list[dict[str, Any]]:
    """The valid sales from ``first`` to ``last`` (inclusive) that ``needs_repair`` picks by
    key and cleaned values; logged by id."""
    repairs: list[dict[str, Any]] = []
    for page in sales_window(scope.client, scope.page_size, first, last):
        for record in page:
            try:
                sale = clean_sale(record)
            except RejectedRecordError:
                continue  # the retry book asks for a rejected sale by itself
            if needs_repair(str(sale["partner_order_id"]), sale):
                repairs.append(sale)
    if repairs:
        log.warning(
            "sales: %d sale(s) of %s..%s behind the lookback missing or changed, repaired: %s",
            len(repairs),
            first,
            last,
            ", ".join(str(sale["partner_order_id"]) for sale in repairs[:10]),
        )
    return repairs


def sale_values(sale: dict[str, Any]) -> tuple[Any, ...]:
    """The compared values of a cleaned sale (a raw row's read the same way)."""
    return tuple(sale.get(name) for name in SALE_FIELDS)


def raw_sale_values(pipeline: Any, first: dt.date, last: dt.date) -> dict[str, tuple[Any, ...]]:
    """The compared values of the sales loaded from ``first`` to ``last`` (inclusive)."""
    start = dt.datetime.combine(first, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    with pipeline.sql_client() as client:
        table = client.make_qualified_table_name("sales")
        try:
            rows = client.execute_sql(RAW_SALE_VALUES.format(table=table), start, end)
        except DatabaseUndefinedRelation:
            return {}
    return {str(row[0]): tuple(row[1:]) for row in rows or []}


def changed_sales(scope: Reconciliation) -> Iterator[list[dict[str, Any]]]:
    """The valid sales of the compared days missing from raw or different there, one
    window's list at a time (every window is read in full)."""
    for start, end in scope.windows():
        values = raw_sale_values(scope.pipeline, start, end)
        changed = _sales_to_repair(scope, start, end, _differing(values, scope.already))
        if changed:
            yield changed
