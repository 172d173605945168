"""Products the ``updated_since`` cursor cannot see: the whole catalogue against fingerprints.

The products cursor asks only for products stamped after the newest one loaded, so a product
changed with an old stamp (a backfill, a stamp that went backwards, a change given exactly
the cursor's stamp), a product that was hidden when the cursor passed it and came back with
its old stamp, or a child row (a tag, an image, a review) changed without a new stamp on its
product is never listed again. The catalogue is small (500 products at scale 1), so every
``every_runs`` runs the products resource lists all of it instead of what changed.

Each product loaded leaves a fingerprint of its cleaned values, children included (what the
loader stores), in the resource state; the state is committed with the load, so it says what
raw holds. On a reconciling run a listed product whose fingerprint is unchanged is dropped,
one missing or different is loaded through the same validation and child tables, and the
ones stamped at or before the cursor (which the cursor would never have listed) are counted
and logged as repaired. A product that fails validation and is already in the retry book is
left to it (it is asked for by id); a newly broken one is rejected as on any run.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from dlt.extract.items import DataItemWithMeta

from ingestion.sources.cursor_trust import METRIC_REPAIRED
from ingestion.sources.storefront.cursors import fingerprint
from ingestion.sources.storefront.helpers import (
    clean_product,
    product_lookup,
    product_lookups,
    sort_records,
)
from ingestion.sources.storefront.retries import RetryBook
from ingestion.sources.validation import count_metric

log = logging.getLogger(__name__)

FINGERPRINTS_STATE_KEY = "fingerprints"
CONTRACT_FIELDS = (
    "id",
    "sku",
    "title",
    "brand",
    "category",
    "price",
    "currency",
    "stock",
    "is_deleted",
    "created_at",
    "updated_at",
    "tags",
    "images",
    "reviews",
)
"""The product fields of the contract (docs/source-systems.md), children included."""


def product_fingerprint(product: dict[str, Any]) -> str:
    """The fingerprint of a cleaned product's contract fields.

    A field the contract does not name is left out: when the API starts sending one, the
    products carry it as they change (as before), rather than the whole catalogue reloading.
    """
    return fingerprint({name: product.get(name) for name in CONTRACT_FIELDS})


class CatalogueFingerprints:
    """The fingerprint of every product loaded, by id, kept in the ``products`` state.

    ``learning`` is true on a warehouse loaded before fingerprints were kept: its first
    reconciliation loads the catalogue once to learn them and calls nothing repaired.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state
        stored = state.get(FINGERPRINTS_STATE_KEY)
        self.learning = stored is None
        self._entries: dict[str, str] = dict(stored or {})

    def fresh(self, products: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """``products`` without the ones loaded already unchanged; the rest are remembered."""
        kept: list[dict[str, Any]] = []
        for product in products:
            key, digest = str(product["id"]), product_fingerprint(product)
            if self._entries.get(key) == digest:
                continue
            self._entries[key] = digest
            kept.append(product)
        return kept

    def save(self) -> None:
        """Write the fingerprints back to the state (committed with the load)."""
        self._state[FINGERPRINTS_STATE_KEY] = self._entries


def reconcile_page(
    records: list[Any],
    book: RetryBook,
    prints: CatalogueFingerprints,
    cursor: dt.datetime,
) -> tuple[list[dict[str, Any]], list[DataItemWithMeta]]:
    """One page of the full catalogue: the products to load and the new rejections.

    Products stamped after ``cursor`` are the cursor's own (loaded when changed, as on any
    run); the changed ones at or before it are the repaired ones, counted and named here.
    """
    good, rejected = sort_records(
        records, clean_product, product_lookups, product_lookup, book, skip_known=True
    )
    good = prints.fresh(good)
    repaired = [p for p in good if p["updated_at"] <= cursor]
    if repaired and not prints.learning:
        count_metric(METRIC_REPAIRED, len(repaired))
        log.warning(
            "products: %d product(s) the cursor missed repaired (stamped at or before %s): %s",
            len(repaired),
            cursor.isoformat(),
            ", ".join(str(p["id"]) for p in repaired[:10]),
        )
    return good, rejected
