"""The opaque ``next_cursor`` of ``GET /v1/sales``: the last ``(sold_at, partner_order_id)``.

The cursor is URL-safe base64 of a small JSON object. Clients must treat it as opaque; the
server decodes it to continue strictly after that sale.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime


class InvalidCursorError(ValueError):
    """A cursor that this server did not produce (or that was altered)."""


@dataclass(frozen=True)
class SalesCursor:
    """The sort key of the last sale on a page."""

    sold_at: datetime
    partner_order_id: str


def encode_cursor(cursor: SalesCursor) -> str:
    """Turn a sort key into an opaque token (full microsecond precision, UTC)."""
    payload = {
        "sold_at": cursor.sold_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "partner_order_id": cursor.partner_order_id,
    }
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> SalesCursor:
    """Read a token made by :func:`encode_cursor`; raise InvalidCursorError otherwise."""
    padded = token + "=" * (-len(token) % 4)
    try:
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        sold_at = datetime.fromisoformat(payload["sold_at"])
        partner_order_id = payload["partner_order_id"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise InvalidCursorError("the cursor is not one this API produced") from exc
    if sold_at.tzinfo is None or not isinstance(partner_order_id, str):
        raise InvalidCursorError("the cursor is not one this API produced")
    return SalesCursor(sold_at=sold_at, partner_order_id=partner_order_id)
