"""The storefront API: products (with tags, images and reviews as child tables) and sales.

Configuration (dlt: environment, ``.dlt/config.toml``, ``.dlt/secrets.toml``):
``SOURCES__STOREFRONT__BASE_URL`` and the secret ``SOURCES__STOREFRONT__API_KEY``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import dlt
from dlt.extract.items import DataItemWithMeta
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client import RESTClient

from ingestion.sources.cursor_trust import METRIC_REPAIRED, due
from ingestion.sources.storefront.api_clock import ApiClock
from ingestion.sources.storefront.cursors import (
    FutureRecords,
    RecentSales,
    flag_future,
    later,
    max_before,
    read_cursor,
    write_cursor,
)
from ingestion.sources.storefront.helpers import (
    api_client,
    clean_product,
    clean_sale,
    date_windows,
    day_lookups,
    fetch_one,
    product_lookup,
    product_lookups,
    products_listing,
    sale_lookup,
    sale_lookups,
    sales_window,
    sort_records,
)
from ingestion.sources.storefront.products_reconciliation import (
    CatalogueFingerprints,
    reconcile_page,
)
from ingestion.sources.storefront.retries import RetryBook
from ingestion.sources.storefront.sales_reconciliation import (
    Reconciliation,
    changed_sales,
    missed_sales,
)
from ingestion.sources.storefront.settings import (
    PRODUCTS_PAGE_SIZE,
    PRODUCTS_PATH,
    PRODUCTS_RECONCILE_EVERY_RUNS,
    REJECTED_MAX_ATTEMPTS,
    REQUEST_BACKOFF_FACTOR,
    REQUEST_DEADLINE_SECONDS,
    REQUEST_MAX_ATTEMPTS,
    REQUEST_MAX_RETRY_DELAY_SECONDS,
    REQUEST_REFUSED_BUDGET_SECONDS,
    REQUEST_RETRY_BUDGET_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
    SALES_CONTENT_CHECK_EVERY_RUNS,
    SALES_FIRST_DATE,
    SALES_LOOKBACK_DAYS,
    SALES_PAGE_SIZE,
    SALES_PATH,
    SALES_RECONCILE_EVERY_RUNS,
    SALES_WINDOW_DAYS,
)
from ingestion.sources.validation import RecordsInCounter, count_metric

log = logging.getLogger(__name__)

CONTENT_RUNS_STATE_KEY = "runs_since_content_check"


@dlt.source(name="storefront")
def storefront_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
    request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    request_max_attempts: int = REQUEST_MAX_ATTEMPTS,
    request_backoff_factor: float = REQUEST_BACKOFF_FACTOR,
    request_max_retry_delay_seconds: float = REQUEST_MAX_RETRY_DELAY_SECONDS,
    request_deadline_seconds: float = REQUEST_DEADLINE_SECONDS,
    request_retry_budget_seconds: float = REQUEST_RETRY_BUDGET_SECONDS,
    request_refused_budget_seconds: float = REQUEST_REFUSED_BUDGET_SECONDS,
    products_page_size: int = PRODUCTS_PAGE_SIZE,
    sales_page_size: int = SALES_PAGE_SIZE,
    sales_first_date: str = SALES_FIRST_DATE.isoformat(),
    sales_window_days: int = SALES_WINDOW_DAYS,
    sales_lookback_days: float = SALES_LOOKBACK_DAYS,
    rejected_max_attempts: int = REJECTED_MAX_ATTEMPTS,
    sales_reconcile_every_runs: int = SALES_RECONCILE_EVERY_RUNS,
    products_reconcile_every_runs: int = PRODUCTS_RECONCILE_EVERY_RUNS,
    sales_content_check_every_runs: int = SALES_CONTENT_CHECK_EVERY_RUNS,
) -> list[DltResource]:
    """The storefront API as a dlt source: ``products`` and ``sales``.

    Args:
        base_url: Where the API answers, e.g. ``http://127.0.0.1:8600``.
        api_key: The bearer token (a secret: never in code or committed config).
        request_timeout_seconds: Per-request timeout; a slower answer is retried.
        request_max_attempts: Attempts per request on 429, 5xx, timeouts and dropped connections.
        request_backoff_factor: Exponential backoff multiplier when no Retry-After is sent.
        request_max_retry_delay_seconds: Upper bound of one wait between attempts.
        request_deadline_seconds: Total time one attempt may take, however slowly the API
            drips its answer; then it is abandoned (its connection cut) and retried.
        request_retry_budget_seconds: Total time one request may spend retrying.
        request_refused_budget_seconds: Total time one request keeps retrying while every
            connection is refused (nothing listens at ``base_url``).
        products_page_size: ``limit`` of the products offset pagination.
        sales_page_size: ``limit`` of the sales cursor pagination.
        sales_first_date: The first sold date of the first (full) sales load.
        sales_window_days: The length of one sales date window.
        sales_lookback_days: How far before the newest sale loaded each run re-reads sales.
        rejected_max_attempts: Attempts (the first rejection included) before a rejected
            record is given up and no longer asked for.
        sales_reconcile_every_runs: Every this many runs the sales before the lookback are
            compared with the API day by day, and the missed ones loaded (0: never).
        products_reconcile_every_runs: Every this many runs the whole catalogue is compared
            with the fingerprints of the products loaded, and the missed ones loaded (0: never).
        sales_content_check_every_runs: Every this many runs the sales before the lookback
            are read in full and compared with raw value by value (0: never).
    """
    client = api_client(
        base_url,
        api_key,
        timeout_seconds=request_timeout_seconds,
        max_attempts=request_max_attempts,
        backoff_factor=request_backoff_factor,
        max_retry_delay_seconds=request_max_retry_delay_seconds,
        deadline_seconds=request_deadline_seconds,
        retry_budget_seconds=request_retry_budget_seconds,
        refused_budget_seconds=request_refused_budget_seconds,
    )
    return [
        products(
            client,
            page_size=products_page_size,
            max_attempts=rejected_max_attempts,
            reconcile_every_runs=products_reconcile_every_runs,
        ).add_step(RecordsInCounter()),
        sales(
            client,
            page_size=sales_page_size,
            first_date=dt.date.fromisoformat(sales_first_date),
            window_days=sales_window_days,
            lookback=dt.timedelta(days=sales_lookback_days),
            max_attempts=rejected_max_attempts,
            reconcile_every_runs=sales_reconcile_every_runs,
            content_every_runs=sales_content_check_every_runs,
        ).add_step(RecordsInCounter()),
    ]


@dlt.resource(
    name="products",
    write_disposition="merge",
    primary_key="id",
)
def products(
    client: RESTClient,
    page_size: int = PRODUCTS_PAGE_SIZE,
    max_attempts: int = REJECTED_MAX_ATTEMPTS,
    reconcile_every_runs: int = PRODUCTS_RECONCILE_EVERY_RUNS,
) -> Iterator[list[dict[str, Any]] | DataItemWithMeta]:
    """The catalogue, merged on ``id``; nested tags, images and reviews become child tables.

    Incremental on ``updated_at`` (a cursor in the resource state): the API's
    ``updated_since`` asks only for products changed after the last value loaded; the first
    run loads everything. Delisted products stay with ``is_deleted = true``. Invalid records
    go to ``rejected_records`` and are asked for again by id (else by SKU) on later runs.
    Every ``reconcile_every_runs`` runs the whole catalogue is listed instead and only the
    products missing or different from what was loaded go on (``products_reconciliation``).
    """
    state = dlt.current.resource_state()
    book = RetryBook(state, "products", max_attempts)
    cursor = read_cursor(state, "updated_at")
    clock = ApiClock.of(client.session)
    future = FutureRecords(state, "id", "updated_at")
    prints = CatalogueFingerprints(state)
    loaded_up_to = cursor  # the cursor as the run starts: what it could not list is repaired
    reconciling = loaded_up_to is not None and due(state, reconcile_every_runs)
    params: dict[str, Any] = {}
    if loaded_up_to is not None and not reconciling:
        params["updated_since"] = loaded_up_to.isoformat()
    for page in products_listing(client, page_size, params):
        if reconciling and loaded_up_to is not None:
            good, rejected = reconcile_page(page, book, prints, loaded_up_to)
        else:
            good, rejected = sort_records(
                page, clean_product, product_lookups, product_lookup, book
            )
            good = prints.fresh(good)
        yield from rejected
        now = clock.now()
        good = future.fresh(good, now)
        if good:
            flag_future(good, "products", "updated_at", now)
            cursor = later(cursor, max_before(good, "updated_at", now))
            yield good
    for lookup, kind, key in book.ask_again():
        if kind == "id":
            records = fetch_one(client, PRODUCTS_PATH, key)
        else:
            pages = products_listing(client, page_size, {"sku": key})
            records = [record for page in pages for record in page] or None
        if records is None:
            book.forget(lookup)
            continue
        good, rejected = sort_records(
            records, clean_product, product_lookups, product_lookup, book, asked=lookup
        )
        yield from rejected
        good = prints.fresh(good)
        if good:
            yield good
    write_cursor(state, cursor)
    future.save(clock.now())
    prints.save()
    book.save()


def _hand_over(
    good: list[dict[str, Any]], recent: RecentSales, handed: set[str]
) -> Iterator[list[dict[str, Any]]]:
    """The sales of ``good`` not already loaded unchanged, as one list (none when all were),
    their keys noted in ``handed``."""
    fresh = [row for row in good if not recent.unchanged(row)]
    if fresh:
        handed.update(str(row["partner_order_id"]) for row in fresh)
        yield fresh


@dlt.resource(
    name="sales",
    write_disposition="merge",
    primary_key="partner_order_id",
)
def sales(
    client: RESTClient,
    page_size: int = SALES_PAGE_SIZE,
    first_date: dt.date = SALES_FIRST_DATE,
    window_days: int = SALES_WINDOW_DAYS,
    lookback: dt.timedelta = dt.timedelta(days=SALES_LOOKBACK_DAYS),
    max_attempts: int = REJECTED_MAX_ATTEMPTS,
    reconcile_every_runs: int = SALES_RECONCILE_EVERY_RUNS,
    content_every_runs: int = SALES_CONTENT_CHECK_EVERY_RUNS,
) -> Iterator[list[dict[str, Any]] | DataItemWithMeta]:
    """Marketplace sales, merged on ``partner_order_id``, fetched one date window at a time.

    Incremental on ``sold_at`` (a cursor in the resource state): a run starts ``lookback``
    before the newest sale loaded, so a sale reported late still lands, and walks forward
    window by window, each paginated by cursor, until it has passed today and a window
    comes back empty. A re-read sale already loaded unchanged is dropped (fingerprints in
    the state), so re-reading the lookback changes nothing. Invalid records go to
    ``rejected_records`` and are asked for again (by partner order id, else by their day).
    A sale reported later than the lookback is found by the reconciliation of the days
    before it (``sales_reconciliation``), every ``reconcile_every_runs`` runs; a sale changed
    in place there, by reading those days in full every ``content_every_runs`` runs.
    """
    state = dlt.current.resource_state()
    book = RetryBook(state, "sales", max_attempts)
    recent = RecentSales(state, lookback)
    cursor = read_cursor(state, "sold_at")
    loaded_before = cursor is not None
    start = first_date if cursor is None else RecentSales.first_day(cursor, lookback)
    clock = ApiClock.of(client.session)
    handed: set[str] = set()  # sales this run hands over: never repaired a second time
    for window_start, window_end in date_windows(start, window_days):
        rows_in_window = 0
        for page in sales_window(client, page_size, window_start, window_end):
            rows_in_window += len(page)
            good, rejected = sort_records(page, clean_sale, sale_lookups, sale_lookup, book)
            yield from rejected
            cursor = later(cursor, max_before(good, "sold_at", clock.now()))
            yield from _hand_over(good, recent, handed)
        book.seen(*day_lookups(window_start, window_end))
        if rows_in_window == 0 and window_end >= clock.now().date():
            log.debug("sales: no rows in %s..%s, past today: done", window_start, window_end)
            break
    # sales stamped after today (the walk stops there): loaded, flagged, never the cursor
    for page in sales_window(client, page_size, window_end + dt.timedelta(days=1), None):
        good, rejected = sort_records(page, clean_sale, sale_lookups, sale_lookup, book)
        yield from rejected
        flag_future(good, "sales", "sold_at", clock.now())
        yield from _hand_over(good, recent, handed)
    for lookup, kind, key in book.ask_again():
        if kind == "day":
            day = dt.date.fromisoformat(key)
            pages = list(sales_window(client, page_size, day, day))
            records = [record for page in pages for record in page]
            asked = None  # a day holds several sales: each keeps its own lookup
        else:
            records = fetch_one(client, SALES_PATH, key) or []
            asked = lookup
        if not records:
            book.forget(lookup)
            continue
        good, rejected = sort_records(records, clean_sale, sale_lookups, sale_lookup, book, asked)
        yield from rejected
        yield from _hand_over(good, recent, handed)
    by_content = due(state, content_every_runs, CONTENT_RUNS_STATE_KEY)
    by_count = due(state, reconcile_every_runs)
    if loaded_before and (by_content or by_count):
        reconcile = changed_sales if by_content else missed_sales
        scope = Reconciliation(
            client,
            dlt.current.pipeline(),
            page_size,
            first=first_date,
            before=start,
            window_days=window_days,
            already=handed.__contains__,
        )
        for missed in reconcile(scope):
            count_metric(METRIC_REPAIRED, len(missed))
            yield missed
    recent.save(cursor)
    write_cursor(state, cursor)
    book.save()
