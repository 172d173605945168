"""Every error the API answers is JSON: ``{"error": "<code>", "detail": "<what happened>"}``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

import psycopg2
import psycopg2.errors
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingestion.database.errors import DatabaseError

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer: HTTP status, a short machine code, a sentence for people."""

    def __init__(
        self,
        status_code: int,
        error: str,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status_code} {error}: {detail}")
        self.status_code = status_code
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})


def error_response(
    status_code: int, error: str, detail: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON body and headers of one error answer."""
    return JSONResponse(
        {"error": error, "detail": detail}, status_code=status_code, headers=dict(headers or {})
    )


def _status_code_name(status_code: int) -> str:
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


async def handle_api_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer an :class:`ApiError` raised by a route or a dependency."""
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.error, exc.detail, exc.headers)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Bad query parameters: 422 with every problem in one sentence."""
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()
    )
    return error_response(422, "invalid_request", problems or "invalid request")


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (unknown path, wrong method) in the same JSON shape."""
    assert isinstance(exc, StarletteHTTPException)
    return error_response(
        exc.status_code, _status_code_name(exc.status_code), str(exc.detail), exc.headers
    )


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """The store could not be read: say why, and log the full story."""
    if isinstance(exc, psycopg2.errors.UndefinedTable):
        logger.error("storefront tables missing: %s", exc)
        return error_response(
            503,
            "not_ready",
            "the storefront tables do not exist yet: generate the simulated world first",
        )
    if isinstance(exc, DatabaseError | psycopg2.OperationalError):
        logger.error("storefront store unreachable: %s", exc)
        return error_response(503, "storage_unavailable", "the storefront store cannot be reached")
    logger.error("storefront store query failed", exc_info=exc)
    return error_response(500, "internal_error", "the storefront store could not be read")


def install_error_handlers(app: FastAPI) -> None:
    """Register the JSON error answers on an app."""
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(DatabaseError, handle_database_error)
    app.add_exception_handler(psycopg2.Error, handle_database_error)
