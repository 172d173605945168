"""The endpoints of the contract: ``/health``, ``/v1/products`` and ``/v1/sales``.

Each list has a by-key endpoint too (``/v1/products/{id}``, ``/v1/sales/{partner_order_id}``)
so a client can ask again for one record it could not use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Query, Request, Security
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from ingestion.simulators.storefront_api.access import guard_request
from ingestion.simulators.storefront_api.cursor import (
    InvalidCursorError,
    SalesCursor,
    decode_cursor,
    encode_cursor,
)
from ingestion.simulators.storefront_api.errors import ApiError
from ingestion.simulators.storefront_api.faults import PRODUCT_FIELDS, SALE_FIELDS
from ingestion.simulators.storefront_api.records import product_record, sale_record
from ingestion.simulators.storefront_api.runtime import runtime_of
from ingestion.simulators.storefront_api.schemas import (
    ERROR_RESPONSES,
    NOT_FOUND_RESPONSE,
    Health,
    Product,
    ProductsPage,
    Sale,
    SalesPage,
)
from ingestion.simulators.storefront_api.store import Row, SalesWindow

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 100

health_router = APIRouter(tags=["health"])
v1_router = APIRouter(prefix="/v1", tags=["storefront"], dependencies=[Security(guard_request)])


@health_router.get("/health", response_model=Health, summary="Liveness (no key needed)")
async def health() -> dict[str, str]:
    """Answer ``{"status": "ok"}`` while the server runs."""
    return {"status": "ok"}


def as_utc(value: datetime | None) -> datetime | None:
    """Read a timestamp without a zone as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def start_of_day(day: date | None) -> datetime | None:
    """Midnight UTC at the start of ``day``."""
    return None if day is None else datetime.combine(day, time.min, tzinfo=UTC)


def sale_key(row: Row) -> SalesCursor:
    """The sort key of a sale row."""
    return SalesCursor(sold_at=row["sold_at"], partner_order_id=row["partner_order_id"])


@v1_router.get(
    "/products",
    response_model=None,
    responses={200: {"model": ProductsPage}, **ERROR_RESPONSES},
    summary="Catalogue products, offset-paginated",
)
async def list_products(
    request: Request,
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Page size."),
    skip: int = Query(0, ge=0, description="Products to skip (offset)."),
    updated_since: datetime | None = Query(
        None, description="Only products with `updated_at` strictly later (ISO-8601)."
    ),
    sku: str | None = Query(None, description="Only the product with this SKU."),
) -> JSONResponse:
    """Products ordered by ``(updated_at, id)`` with their tags, images and reviews."""
    runtime = runtime_of(request)
    repeat_previous = runtime.config.duplicates and skip > 0
    offset = skip - 1 if repeat_previous else skip
    page = await run_in_threadpool(
        runtime.store.product_page,
        offset=offset,
        limit=limit + 1 if repeat_previous else limit,
        updated_since=as_utc(updated_since),
        sku=sku,
    )
    rows = page.rows
    if repeat_previous and len(rows) < 2:
        rows = []  # only the repeated record would be left: the page is really empty
    faults = runtime.faults
    products = [
        faults.malform(faults.add_extra_field(product_record(row)), PRODUCT_FIELDS) for row in rows
    ]
    body = {"products": products, "total": page.total, "skip": skip, "limit": limit}
    return JSONResponse(faults.bend_page(body, "products"))


@v1_router.get(
    "/products/{product_id}",
    response_model=None,
    responses={200: {"model": Product}, **NOT_FOUND_RESPONSE, **ERROR_RESPONSES},
    summary="One product by id",
)
async def get_product(request: Request, product_id: int) -> JSONResponse:
    """One product with its tags, images and reviews; 404 when there is no such product."""
    runtime = runtime_of(request)
    page = await run_in_threadpool(
        runtime.store.product_page,
        offset=0,
        limit=1,
        updated_since=None,
        product_id=product_id,
    )
    if not page.rows:
        raise ApiError(404, "not_found", f"there is no product {product_id}")
    faults = runtime.faults
    return JSONResponse(
        faults.malform(faults.add_extra_field(product_record(page.rows[0])), PRODUCT_FIELDS)
    )


@v1_router.get(
    "/sales",
    response_model=None,
    responses={200: {"model": SalesPage}, 400: ERROR_RESPONSES[422], **ERROR_RESPONSES},
    summary="Marketplace sales, cursor-paginated",
)
async def list_sales(
    request: Request,
    start_date: date | None = Query(None, description="First day (inclusive) of `sold_at`."),
    end_date: date | None = Query(None, description="Last day (inclusive) of `sold_at`."),
    limit: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Page size."),
    cursor: str | None = Query(None, description="The `next_cursor` of the previous page."),
) -> JSONResponse:
    """Sales ordered by ``(sold_at, partner_order_id)`` within a date window."""
    if start_date and end_date and end_date < start_date:
        raise ApiError(400, "invalid_request", "end_date is before start_date")
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursorError as exc:
        raise ApiError(400, "invalid_cursor", str(exc)) from exc
    runtime = runtime_of(request)
    window = SalesWindow(
        start=start_of_day(start_date),
        end=start_of_day(end_date + timedelta(days=1)) if end_date else None,
    )
    repeat_previous = runtime.config.duplicates and after is not None
    rows = await run_in_threadpool(
        runtime.store.sales,
        window=window,
        after=after,
        limit=limit + 2 if repeat_previous else limit + 1,
        include_after=repeat_previous,
    )
    repeated = rows.pop(0) if repeat_previous and rows and sale_key(rows[0]) == after else None
    page, has_more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(sale_key(page[-1])) if has_more else None
    if repeated is not None and page:
        page = [repeated, *page]
    sales = [runtime.faults.malform(sale_record(row), SALE_FIELDS) for row in page]
    total = await run_in_threadpool(runtime.store.sales_total, window=window)
    body = {"sales": sales, "next_cursor": next_cursor, "total": total}
    return JSONResponse(runtime.faults.bend_page(body, "sales"))


@v1_router.get(
    "/sales/{partner_order_id}",
    response_model=None,
    responses={200: {"model": Sale}, **NOT_FOUND_RESPONSE, **ERROR_RESPONSES},
    summary="One sale by partner order id",
)
async def get_sale(request: Request, partner_order_id: str) -> JSONResponse:
    """One marketplace sale; 404 when there is no such sale."""
    runtime = runtime_of(request)
    row = await run_in_threadpool(runtime.store.sale, partner_order_id)
    if row is None:
        raise ApiError(404, "not_found", f"there is no sale {partner_order_id!r}")
    return JSONResponse(runtime.faults.malform(sale_record(row), SALE_FIELDS))
