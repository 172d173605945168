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
from dlt.common.pendulum import pendulum
from dlt.extract.items import DataItemWithMeta
from dlt.extract.resource import DltResource
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import (
    JSONResponseCursorPaginator,
    OffsetPaginator,
)

from ingestion.sources.storefront.helpers import (
    api_client,
    clean_product,
    clean_sale,
    date_windows,
    validated_page,
)
from ingestion.sources.storefront.settings import (
    PRODUCTS_PAGE_SIZE,
    PRODUCTS_PATH,
    REQUEST_BACKOFF_FACTOR,
    REQUEST_MAX_ATTEMPTS,
    REQUEST_MAX_RETRY_DELAY_SECONDS,
    REQUEST_TIMEOUT_SECONDS,
    SALES_FIRST_DATE,
    SALES_PAGE_SIZE,
    SALES_PATH,
    SALES_WINDOW_DAYS,
)
from ingestion.sources.validation import RecordsInCounter

log = logging.getLogger(__name__)


@dlt.source(name="storefront")
def storefront_source(
    base_url: str = dlt.config.value,
    api_key: str = dlt.secrets.value,
    request_timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    request_max_attempts: int = REQUEST_MAX_ATTEMPTS,
    request_backoff_factor: float = REQUEST_BACKOFF_FACTOR,
    request_max_retry_delay_seconds: float = REQUEST_MAX_RETRY_DELAY_SECONDS,
    products_page_size: int = PRODUCTS_PAGE_SIZE,
    sales_page_size: int = SALES_PAGE_SIZE,
    sales_first_date: str = SALES_FIRST_DATE.isoformat(),
    sales_window_days: int = SALES_WINDOW_DAYS,
) -> list[DltResource]:
    """The storefront API as a dlt source: ``products`` and ``sales``.

    Args:
        base_url: Where the API answers, e.g. ``http://127.0.0.1:8600``.
        api_key: The bearer token (a secret: never in code or committed config).
        request_timeout_seconds: Per-request timeout; a slower answer is retried.
        request_max_attempts: Attempts per request on 429, 5xx, timeouts and dropped connections.
        request_backoff_factor: Exponential backoff multiplier when no Retry-After is sent.
        request_max_retry_delay_seconds: Upper bound of one wait between attempts.
        products_page_size: ``limit`` of the products offset pagination.
        sales_page_size: ``limit`` of the sales cursor pagination.
        sales_first_date: The first sold date of the first (full) sales load.
        sales_window_days: The length of one sales date window.
    """
    client = api_client(
        base_url,
        api_key,
        timeout_seconds=request_timeout_seconds,
        max_attempts=request_max_attempts,
        backoff_factor=request_backoff_factor,
        max_retry_delay_seconds=request_max_retry_delay_seconds,
    )
    return [
        products(client, page_size=products_page_size).add_step(RecordsInCounter()),
        sales(
            client,
            page_size=sales_page_size,
            first_date=dt.date.fromisoformat(sales_first_date),
            window_days=sales_window_days,
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
    updated_at: dlt.sources.incremental[dt.datetime] = dlt.sources.incremental(
        "updated_at", on_cursor_value_missing="include"
    ),
) -> Iterator[list[dict[str, Any]] | DataItemWithMeta]:
    """The catalogue, merged on ``id``; nested tags, images and reviews become child tables.

    Incremental on ``updated_at``: the API's ``updated_since`` asks only for products changed
    after the last value seen (dlt state); the first run loads everything. Delisted products
    stay with ``is_deleted = true``. Invalid records go to ``rejected_records``.
    """
    params: dict[str, Any] = {}
    if updated_at.start_value is not None:
        params["updated_since"] = pendulum.instance(updated_at.start_value).isoformat()
    paginator = OffsetPaginator(
        limit=page_size, offset_param="skip", limit_param="limit", total_path="total"
    )
    for page in client.paginate(
        PRODUCTS_PATH, params=params, paginator=paginator, data_selector="products"
    ):
        yield from validated_page(page, "products", clean_product)


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
    sold_at: dlt.sources.incremental[dt.datetime] = dlt.sources.incremental(
        "sold_at", on_cursor_value_missing="include"
    ),
) -> Iterator[list[dict[str, Any]] | DataItemWithMeta]:
    """Marketplace sales, merged on ``partner_order_id``, fetched one date window at a time.

    Incremental on ``sold_at``: a run starts at the day of the last sale seen (dlt drops the
    rows it already has) and walks forward window by window, each paginated by cursor, until
    it has passed today and a window comes back empty.
    """
    start = first_date
    if sold_at.start_value is not None:
        start = pendulum.instance(sold_at.start_value).date()
    today = dt.datetime.now(dt.UTC).date()
    for window_start, window_end in date_windows(start, window_days):
        rows_in_window = 0
        paginator = JSONResponseCursorPaginator(cursor_path="next_cursor", cursor_param="cursor")
        params = {
            "start_date": window_start.isoformat(),
            "end_date": window_end.isoformat(),
            "limit": page_size,
        }
        for page in client.paginate(
            SALES_PATH, params=params, paginator=paginator, data_selector="sales"
        ):
            rows_in_window += len(page)
            yield from validated_page(page, "sales", clean_sale)
        if rows_in_window == 0 and window_end >= today:
            log.debug("sales: no rows in %s..%s, past today: done", window_start, window_end)
            return
