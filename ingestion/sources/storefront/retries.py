"""Rejected API records are asked for again on later runs, until they load or are given up.

A record the API sent broken (malformed in transit) would otherwise be lost for good: the
cursor moves past it and no later listing returns it. So every rejected record leaves a
*lookup* (how to ask for that one record again: its id, else another handle such as its SKU
or its day) with the number of attempts so far in the resource's dlt state. The next run
asks for it again; it loads, or is rejected again with one attempt more, until the maximum,
when it is recorded as given up and no longer asked for. State is committed by dlt only
with a successful extract, so a failed run neither loses nor counts an attempt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from dlt.common.pendulum import pendulum
from dlt.extract.items import DataItemWithMeta

from ingestion.sources.validation import (
    METRIC_REJECTED,
    REJECTED_RECORDS_COLUMNS,
    REJECTED_RECORDS_TABLE,
    count_metric,
    current_load_id,
    routed_row,
    to_payload_text,
)

log = logging.getLogger(__name__)

RETRY_STATE_KEY = "rejected_retries"
GIVEN_UP_STATE_KEY = "rejected_given_up"

REJECTED_WITH_ATTEMPT_COLUMNS: dict[str, dict[str, Any]] = {
    **REJECTED_RECORDS_COLUMNS,
    "attempt": {"data_type": "bigint", "nullable": True},
}
"""``rejected_records`` of the storefront: the shared columns plus the attempt number."""


class RetryBook:
    """The lookups of one resource's rejected records, read from and written to its state.

    ``state`` is the resource's dlt state (``dlt.current.resource_state()``). Lookups are
    short strings such as ``id:17``, ``sku:SKU-000017``, ``partner_order_id:AMZ-000123`` or
    ``day:2025-03-01``.
    """

    def __init__(self, state: dict[str, Any], resource: str, max_attempts: int) -> None:
        self._state = state
        self.resource = resource
        self.max_attempts = max_attempts
        self._previous: dict[str, int] = dict(state.get(RETRY_STATE_KEY) or {})
        self._next: dict[str, int] = {}
        self._given_up_before: dict[str, int] = dict(state.get(GIVEN_UP_STATE_KEY) or {})
        self._given_up = dict(self._given_up_before)
        self._seen: set[str] = set()
        self._loaded: set[str] = set()

    def seen(self, *lookups: str) -> None:
        """The run met these records (e.g. a listing covered their day): not asked for again."""
        self._seen.update(lookups)

    def loaded(self, *lookups: str) -> None:
        """These records loaded: forget any rejection of them, earlier or in this run."""
        self._seen.update(lookups)
        self._loaded.update(lookups)
        for lookup in lookups:
            self._next.pop(lookup, None)
            self._given_up.pop(lookup, None)

    def knows(self, lookup: str) -> bool:
        """Whether an earlier run rejected this record (it is asked for again, or given up)."""
        return lookup in self._previous or lookup in self._given_up_before

    def due(self) -> list[tuple[str, int]]:
        """Lookups rejected on earlier runs that this run has not met yet, with attempts so far."""
        return [(k, n) for k, n in sorted(self._previous.items()) if k not in self._seen]

    def ask_again(self) -> Iterator[tuple[str, str, str]]:
        """The due lookups, each logged and marked met as it is handed out, split at its colon:
        ``(lookup, kind, key)``, e.g. ``("day:2025-03-01", "day", "2025-03-01")``."""
        for lookup, attempts in self.due():
            log.info(
                "%s: asking again for %s (%d attempts so far)", self.resource, lookup, attempts
            )
            self.seen(lookup)
            kind, _, key = lookup.partition(":")
            yield lookup, kind, key

    def forget(self, lookup: str) -> None:
        """The API no longer has this record (404): stop asking for it."""
        log.info(
            "storefront %s: %s is gone from the API, no longer asked for", self.resource, lookup
        )
        self._seen.add(lookup)

    def reject(self, lookup: str | None, reason: str, payload: Any) -> DataItemWithMeta:
        """Note one more failed attempt and return the ``rejected_records`` row for it."""
        count_metric(METRIC_REJECTED)
        if lookup is None:
            attempt = 1
            reason = f"{reason} (attempt 1: nothing identifies it to ask for it again)"
        elif lookup in self._loaded:
            attempt = self._attempts_before(lookup) + 1
            reason = f"{reason} (attempt {attempt}: a good copy loaded in the same run)"
        else:
            self._seen.add(lookup)
            attempt = self._attempts_before(lookup) + 1
            if lookup in self._given_up_before:
                self._given_up[lookup] = attempt
                reason = f"{reason} (attempt {attempt}: given up earlier, not asked for again)"
            elif attempt >= self.max_attempts:
                self._next.pop(lookup, None)
                self._given_up[lookup] = attempt
                reason = f"{reason} (attempt {attempt} of {self.max_attempts}: given up)"
            else:
                self._next[lookup] = attempt
                reason = (
                    f"{reason} (attempt {attempt} of {self.max_attempts}: asked again next run)"
                )
        log.info("rejected a %s record: %s", self.resource, reason)
        return routed_row(
            {
                "resource": self.resource,
                "reason": reason,
                "raw_payload": to_payload_text(payload),
                "load_id": current_load_id(),
                "rejected_at": pendulum.now("UTC"),
                "attempt": attempt,
            },
            REJECTED_RECORDS_TABLE,
            REJECTED_WITH_ATTEMPT_COLUMNS,
        )

    def _attempts_before(self, lookup: str) -> int:
        """Attempts of earlier runs (a record repeated within this run counts once)."""
        return max(self._previous.get(lookup, 0), self._given_up_before.get(lookup, 0))

    def save(self) -> None:
        """Write the lookups to ask for next run (and those given up) back to the state.

        Lookups due this run that it did not meet (not asked for: the caller skipped them)
        stay due with their attempts unchanged.
        """
        carried = {k: n for k, n in self._previous.items() if k not in self._seen}
        self._state[RETRY_STATE_KEY] = {**carried, **self._next}
        self._state[GIVEN_UP_STATE_KEY] = self._given_up
