"""Plumbing of the storefront source: the HTTP client, record validation and lookups."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import suppress
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from dlt.extract.items import DataItemWithMeta
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import (
    JSONResponseCursorPaginator,
    OffsetPaginator,
)

from ingestion.sources.storefront.deadlines import deadline_session
from ingestion.sources.storefront.pages import (
    checked_pages,
    cursor_more_promised,
    offset_more_promised,
    parse_bodies_once,
)
from ingestion.sources.storefront.retries import RetryBook
from ingestion.sources.storefront.settings import (
    PRODUCTS_PATH,
    REQUEST_DEADLINE_SECONDS,
    REQUEST_REFUSED_BUDGET_SECONDS,
    REQUEST_RETRY_BUDGET_SECONDS,
    SALES_PATH,
)
from ingestion.sources.validation import (
    RejectedRecordError,
    parse_decimal,
    parse_int,
    parse_timestamp,
    require_text,
)

Lookups = Callable[[dict[str, Any]], tuple[str, ...]]

log = logging.getLogger(__name__)


def api_client(
    base_url: str,
    api_key: str,
    timeout_seconds: float,
    max_attempts: int,
    backoff_factor: float,
    max_retry_delay_seconds: float,
    deadline_seconds: float = REQUEST_DEADLINE_SECONDS,
    retry_budget_seconds: float = REQUEST_RETRY_BUDGET_SECONDS,
    refused_budget_seconds: float = REQUEST_REFUSED_BUDGET_SECONDS,
) -> RESTClient:
    """A dlt RESTClient with bearer auth, a read timeout, a total deadline and retries.

    Retries cover 429 and every 5xx answer plus connection errors, timeouts and missed
    deadlines, with exponential backoff (a ``Retry-After`` header, when sent, sets the wait
    instead), until ``max_attempts`` or ``retry_budget_seconds`` runs out, or for a refused
    connection ``refused_budget_seconds`` (``deadlines``).
    """
    session = deadline_session(
        read_timeout_seconds=timeout_seconds,
        deadline_seconds=deadline_seconds,
        max_attempts=max_attempts,
        budget_seconds=retry_budget_seconds,
        backoff_factor=backoff_factor,
        max_retry_delay_seconds=max_retry_delay_seconds,
        refused_budget_seconds=refused_budget_seconds,
    )
    parse_bodies_once(session)
    return RESTClient(
        base_url=base_url.rstrip("/"),
        auth=BearerTokenAuth(token=api_key),
        session=session,
    )


def clean_product(record: dict[str, Any]) -> dict[str, Any]:
    """A product ready to load, or RejectedRecordError saying why it cannot be.

    Unknown fields pass through unchanged (they become new columns).
    """
    if not isinstance(record, dict):
        raise RejectedRecordError(f"not a JSON object ({type(record).__name__})")
    product = dict(record)
    product["id"] = parse_int(record.get("id"), "id", minimum=1)
    product["price"] = _positive_price(record.get("price"))
    product["created_at"] = parse_timestamp(record.get("created_at"), "created_at")
    product["updated_at"] = parse_timestamp(record.get("updated_at"), "updated_at")
    if not isinstance(record.get("is_deleted", False), bool):
        raise RejectedRecordError(f"is_deleted: not a boolean ({record.get('is_deleted')!r})")
    reviews = record.get("reviews") or []
    if not isinstance(reviews, list):
        raise RejectedRecordError("reviews: not a list")
    product["reviews"] = [_clean_review(review) for review in reviews]
    return product


def _positive_price(value: Any) -> Decimal:
    price = parse_decimal(value, "price")
    if price <= 0:
        raise RejectedRecordError(f"price: {price} is not positive")
    return price


def _clean_review(review: Any) -> dict[str, Any]:
    if not isinstance(review, dict):
        raise RejectedRecordError("reviews: an entry is not an object")
    cleaned = dict(review)
    cleaned["id"] = parse_int(review.get("id"), "reviews.id")
    cleaned["date"] = parse_timestamp(review.get("date"), "reviews.date")
    return cleaned


def clean_sale(record: dict[str, Any]) -> dict[str, Any]:
    """A marketplace sale ready to load, or RejectedRecordError saying why it cannot be."""
    if not isinstance(record, dict):
        raise RejectedRecordError(f"not a JSON object ({type(record).__name__})")
    sale = dict(record)
    sale["partner_order_id"] = require_text(record.get("partner_order_id"), "partner_order_id")
    sale["quantity"] = parse_int(record.get("quantity"), "quantity", minimum=1)
    sale["gross_amount"] = parse_decimal(
        record.get("gross_amount"), "gross_amount", minimum=Decimal(0)
    )
    sale["sold_at"] = parse_timestamp(record.get("sold_at"), "sold_at")
    return sale


def date_windows(first: dt.date, window_days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Consecutive inclusive ``(start, end)`` date windows from ``first`` onwards, forever.

    The caller stops iterating (see ``sales`` in the source) once the windows have passed
    both today and the last day that had data.
    """
    start = first
    while True:
        end = start + dt.timedelta(days=window_days - 1)
        yield start, end
        start = end + dt.timedelta(days=1)


def product_lookup(record: Any) -> str | None:
    """How to ask for a (possibly broken) product again: ``id:<id>``, else ``sku:<sku>``."""
    if not isinstance(record, dict):
        return None
    try:
        return f"id:{parse_int(record.get('id'), 'id', minimum=1)}"
    except RejectedRecordError:
        sku = record.get("sku")
        return f"sku:{sku}" if isinstance(sku, str) and sku.strip() else None


def product_lookups(product: dict[str, Any]) -> tuple[str, ...]:
    """Every lookup a loaded product answers (its id and its SKU)."""
    return (f"id:{product['id']}", f"sku:{product.get('sku')}")


def sale_lookup(record: Any) -> str | None:
    """How to ask for a (possibly broken) sale again: by partner order id, else by its day."""
    if not isinstance(record, dict):
        return None
    with suppress(RejectedRecordError):
        return f"partner_order_id:{require_text(record.get('partner_order_id'), 'id')}"
    try:
        return f"day:{parse_timestamp(record.get('sold_at'), 'sold_at').date().isoformat()}"
    except RejectedRecordError:
        return None


def sale_lookups(sale: dict[str, Any]) -> tuple[str, ...]:
    """The lookup a loaded sale answers (its day is answered by the window that read it)."""
    return (f"partner_order_id:{sale['partner_order_id']}",)


def day_lookups(first: dt.date, last: dt.date) -> list[str]:
    """The ``day:`` lookups of every day from ``first`` to ``last`` (inclusive)."""
    days = (last - first).days + 1
    return [f"day:{(first + dt.timedelta(days=n)).isoformat()}" for n in range(max(days, 0))]


def sort_records(
    records: list[Any],
    clean: Callable[[Any], dict[str, Any]],
    lookups: Lookups,
    lookup_of: Callable[[Any], str | None],
    book: RetryBook,
    asked: str | None = None,
    *,
    skip_known: bool = False,
) -> tuple[list[dict[str, Any]], list[DataItemWithMeta]]:
    """Split records into loadable rows and ``rejected_records`` rows, telling the book.

    ``asked`` is the lookup a record was asked for by, when it was fetched again: a retry
    keeps counting attempts under it even if this time another field broke. With
    ``skip_known``, a rejected record an earlier run rejected already is passed over: the
    book asks for it by itself.
    """
    good: list[dict[str, Any]] = []
    rejected: list[DataItemWithMeta] = []
    for record in records:
        try:
            row = clean(record)
        except RejectedRecordError as exc:
            lookup = asked or lookup_of(record)
            if skip_known and lookup is not None and book.knows(lookup):
                continue
            rejected.append(book.reject(lookup, str(exc), record))
            continue
        book.loaded(*lookups(row))
        good.append(row)
    return good, rejected


def fetch_one(client: RESTClient, path: str, key: str) -> list[Any] | None:
    """The record at ``path/<key>`` as a one-record list, or None when the API has none (404).

    Other failures raise (after the client's retries), failing the table's run.
    """
    response = client.get(f"{path}/{quote(key, safe='')}")
    if response.status_code == 404:
        return None
    response.raise_for_status()
    return [response.json()]


def products_listing(
    client: RESTClient, page_size: int, params: dict[str, Any]
) -> Iterator[list[Any]]:
    """The checked pages of the products matching ``params`` (offset pagination)."""
    return checked_pages(
        client,
        PRODUCTS_PATH,
        resource="products",
        data_key="products",
        record_key="id",
        params=params,
        paginator=OffsetPaginator(
            limit=page_size, offset_param="skip", limit_param="limit", total_path="total"
        ),
        more_promised=offset_more_promised,
    )


def sales_window(
    client: RESTClient, page_size: int, first: dt.date, last: dt.date | None
) -> Iterator[list[Any]]:
    """The checked pages of the sales sold from ``first`` to ``last`` (inclusive; None: on)."""
    params: dict[str, Any] = {"start_date": first.isoformat(), "limit": page_size}
    if last is not None:
        params["end_date"] = last.isoformat()
    return checked_pages(
        client,
        SALES_PATH,
        resource="sales",
        data_key="sales",
        record_key="partner_order_id",
        params=params,
        paginator=JSONResponseCursorPaginator(cursor_path="next_cursor", cursor_param="cursor"),
        more_promised=cursor_more_promised,
    )
