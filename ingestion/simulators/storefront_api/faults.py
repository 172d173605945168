"""The switchable faults of the storefront API, drawn from one seeded random generator.

With the same configuration and the same sequence of requests, the same faults come out:
failures are repeatable. Duplicated records are decided by the endpoints themselves (the
last record of a page repeated first on the next one); everything random lives here.
Page faults bend a whole list page after it is built: the data key left out, the page
emptied, or one record silently lost.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any

from ingestion.simulators.storefront_api.config import ApiConfig

Record = dict[str, Any]

MISSING_ID = "missing_id"
AMOUNT_NOT_A_NUMBER = "amount_not_a_number"
NEGATIVE_AMOUNT = "negative_amount"
UNPARSEABLE_TIMESTAMP = "unparseable_timestamp"
MALFORMATIONS = (MISSING_ID, AMOUNT_NOT_A_NUMBER, NEGATIVE_AMOUNT, UNPARSEABLE_TIMESTAMP)

NOT_A_NUMBER_VALUES = ("N/A", "call for price", "12,99 EUR", "free")
UNPARSEABLE_TIMESTAMPS = ("not-a-date", "2025-13-45T25:61:00Z", "yesterday", "01/02/25 9am")
ERROR_STATUSES = (500, 503)

MISSING_DATA = "missing_data"
EMPTY_PAGE = "empty_page"
LOST_RECORD = "lost_record"
EXTRA_FIELD = "sustainability_score"


@dataclass(frozen=True)
class RecordFields:
    """Which fields of a resource the malformations bend."""

    id: str
    amount: str
    timestamp: str


PRODUCT_FIELDS = RecordFields(id="id", amount="price", timestamp="updated_at")
SALE_FIELDS = RecordFields(id="partner_order_id", amount="gross_amount", timestamp="sold_at")


class FaultInjector:
    """Decides, request by request and record by record, which faults happen."""

    def __init__(self, config: ApiConfig) -> None:
        self._config = config
        self._random = random.Random(config.seed)
        self._lock = threading.Lock()

    def _happens(self, rate: float) -> bool:
        """One draw against ``rate``; no draw at all when the fault is off."""
        if rate <= 0.0:
            return False
        with self._lock:
            return self._random.random() < rate

    def request_delay(self) -> float:
        """Seconds to wait before answering this request (0 when it is not slowed)."""
        return self._config.slow_seconds if self._happens(self._config.slow_rate) else 0.0

    def request_error(self) -> int | None:
        """The status (500 or 503) this request fails with, or None."""
        if not self._happens(self._config.error_rate):
            return None
        with self._lock:
            return self._random.choice(ERROR_STATUSES)

    def malform(self, record: Record, fields: RecordFields) -> Record:
        """Return the record, or (at the malformed rate) a copy broken in one of four ways."""
        if not self._happens(self._config.malformed_rate):
            return record
        with self._lock:
            kind = self._random.choice(MALFORMATIONS)
            broken = dict(record)
            if kind == MISSING_ID:
                broken.pop(fields.id, None)
            elif kind == AMOUNT_NOT_A_NUMBER:
                broken[fields.amount] = self._random.choice(NOT_A_NUMBER_VALUES)
            elif kind == NEGATIVE_AMOUNT:
                broken[fields.amount] = -(abs(float(record[fields.amount])) or 1.0)
            else:
                broken[fields.timestamp] = self._random.choice(UNPARSEABLE_TIMESTAMPS)
        return broken

    def add_extra_field(self, record: Record) -> Record:
        """Add ``sustainability_score`` (0-100, stable per product) when the fault is on."""
        if not self._config.extra_field:
            return record
        score = random.Random(f"{self._config.seed}:{record.get('id')}").randint(0, 100)
        return {**record, EXTRA_FIELD: score}

    def page_fault(self) -> str | None:
        """The page fault this list page suffers (one draw per fault switched on), or None."""
        for kind, rate in (
            (MISSING_DATA, self._config.missing_data_rate),
            (EMPTY_PAGE, self._config.empty_page_rate),
            (LOST_RECORD, self._config.lost_record_rate),
        ):
            if self._happens(rate):
                return kind
        return None

    def bend_page(self, body: dict[str, Any], data_key: str) -> dict[str, Any]:
        """Return the page body, or (at the page fault rates) a copy broken in one way.

        Empty pages are left alone by ``empty_page`` and ``lost_record`` (nothing to lose),
        so they never pass for a fault that did nothing.
        """
        kind = self.page_fault()
        records = body[data_key]
        if kind is None or (kind != MISSING_DATA and not records):
            return body
        bent = dict(body)
        if kind == MISSING_DATA:
            del bent[data_key]
        elif kind == EMPTY_PAGE:
            bent[data_key] = []
        else:
            with self._lock:
                lost = self._random.randrange(len(records))
            bent[data_key] = records[:lost] + records[lost + 1 :]
        return bent
