"""What the world tests share: the world they build (its ops database, its landing folder),
and the contract's status paths an order, a payment and a delivery may move along."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from ingestion.settings import ConnectionSettings

SMALL_SCALE = 0.1


@dataclass(frozen=True)
class World:
    """A built world: how to reach its ops database, and where its files landed."""

    settings: ConnectionSettings
    landing: Path

    def query(self, sql: str, params: tuple[object, ...] | None = None) -> list[tuple]:
        """Rows of one query against the world's ops database."""
        with psycopg2.connect(self.settings.ops_url) as conn, conn.cursor() as cur:
            cur.execute("set time zone 'UTC'")
            cur.execute(sql, params)
            rows = cur.fetchall()
        conn.close()
        return rows


WorldFactory = Callable[..., World]


ORDER_PATHS = {
    "pending": {"paid", "cancelled"},
    "paid": {"shipped", "cancelled", "refunded"},
    "shipped": {"delivered", "refunded"},
    "delivered": {"refunded"},
    "cancelled": set(),
    "refunded": set(),
}
PAYMENT_PATHS = {
    None: {"authorized", "failed"},
    "authorized": {"captured"},
    "captured": {"refunded"},
    "refunded": set(),
    "failed": set(),
}
DELIVERY_PATHS = {
    None: {"in_transit"},
    "in_transit": {"delivered", "returned"},
    "delivered": set(),
    "returned": set(),
}


def reachable(paths: dict, start: object) -> set:
    """Every state reachable from ``start`` in one or more steps, and ``start`` itself."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in paths[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
