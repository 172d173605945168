"""The lines the landing-file tests write: a valid clickstream event of the documented shape,
changed as a test needs, as one JSON line."""

from __future__ import annotations

import json


def event(event_id: str, **changes: object) -> dict[str, object]:
    """A valid event of the documented shape."""
    return {
        "event_id": event_id,
        "timestamp": "2026-01-01T10:00:00Z",
        "event_name": "view",
        "user_identifiers": {"platform": "web", "id": "7"},
        "product_information": {"name": "Tent", "SKU": "SKU-000007"},
        "order_id": None,
        **changes,
    }


def line(value: dict[str, object]) -> bytes:
    return json.dumps(value).encode()
