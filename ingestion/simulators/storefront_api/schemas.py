"""Pydantic models that document the answers in the OpenAPI spec.

They describe the well-formed shapes only: the routes build their JSON directly so that
injected faults (malformed records, an extra field) reach clients unvalidated.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Image(BaseModel):
    """A product image."""

    url: str
    width: int
    height: int


class Review(BaseModel):
    """A customer review of a product."""

    id: int
    rating: int = Field(ge=1, le=5)
    comment: str
    reviewer_name: str
    reviewer_email: str
    date: datetime


class Product(BaseModel):
    """A catalogue product; delisted ones stay with ``is_deleted: true``."""

    id: int
    sku: str
    title: str
    brand: str
    category: str
    price: float
    currency: str
    stock: int
    is_deleted: bool
    created_at: datetime
    updated_at: datetime
    tags: list[str]
    images: list[Image]
    reviews: list[Review]


class ProductsPage(BaseModel):
    """One page of products ordered by ``(updated_at, id)``."""

    products: list[Product]
    total: int = Field(description="Products matching the filter, over all pages.")
    skip: int
    limit: int


class Sale(BaseModel):
    """A sale made through a marketplace partner."""

    partner_order_id: str
    partner_name: str
    sku: str
    quantity: int
    gross_amount: float
    currency: str
    sold_at: datetime


class SalesPage(BaseModel):
    """One page of sales ordered by ``(sold_at, partner_order_id)``."""

    sales: list[Sale]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )
    total: int = Field(description="Sales in the date window, over all pages.")


class ErrorBody(BaseModel):
    """Every error answer."""

    error: str
    detail: str | None = None


class Health(BaseModel):
    """The liveness answer."""

    status: str


ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong API key."},
    422: {"model": ErrorBody, "description": "Invalid query parameters."},
    429: {"model": ErrorBody, "description": "Rate limited; see the Retry-After header."},
    500: {"model": ErrorBody, "description": "Server error (possibly an injected fault)."},
    503: {"model": ErrorBody, "description": "Unavailable (possibly an injected fault)."},
}

NOT_FOUND_RESPONSE: dict[int | str, dict[str, object]] = {
    404: {"model": ErrorBody, "description": "No record with this key."},
}
