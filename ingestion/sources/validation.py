"""Validation shared by every source: parse a field or reject the record, never drop it.

A record that fails validation is routed by its resource to the ``rejected_records`` table of
the source's dataset (``raw_<source>.rejected_records``) with its raw payload, the reason and
the load id. Each resource counts what it rejected, and a metrics step after the incremental
filter counts every record it hands to dlt (dlt custom resource metrics), so the loading
layer can prove ``records in = loaded + rejected``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

import dlt
from dlt.common.pendulum import pendulum
from dlt.common.storages.exceptions import CurrentLoadPackageStateNotAvailable
from dlt.extract.extractors import ImportFileMeta
from dlt.extract.hints import HintsMeta
from dlt.extract.items import DataItemWithMeta
from dlt.extract.items_transform import MetricsItem

log = logging.getLogger(__name__)

REJECTED_RECORDS_TABLE = "rejected_records"
QUARANTINED_FILES_TABLE = "quarantined_files"

METRIC_RECORDS_IN = "records_in"
METRIC_REJECTED = "rejected"
METRIC_FILES_QUARANTINED = "files_quarantined"
METRIC_FILES_READ = "files_read"

MAX_PAYLOAD_CHARS = 4096
"""The longest raw payload a rejected record stores: a prefix of what could not be loaded is
enough to find it, while a whole hostile line (or a file that should never have been read)
must not be copied into the warehouse."""
MAX_REASON_CHARS = 1000
"""The longest reason stored (a parser's message may quote what it failed on)."""

REJECTED_RECORDS_COLUMNS: dict[str, dict[str, Any]] = {
    "resource": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    "raw_payload": {"data_type": "text", "nullable": True},
    "load_id": {"data_type": "text", "nullable": False},
    "rejected_at": {"data_type": "timestamp", "nullable": False},
}

QUARANTINED_FILES_COLUMNS: dict[str, dict[str, Any]] = {
    "file_name": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    "load_id": {"data_type": "text", "nullable": False},
    "quarantined_at": {"data_type": "timestamp", "nullable": False},
}


BOOKKEEPING_DDL: dict[str, str] = {
    REJECTED_RECORDS_TABLE: """
        resource varchar not null,
        reason varchar not null,
        raw_payload varchar,
        load_id varchar not null,
        rejected_at timestamp with time zone not null,
        _dlt_load_id varchar not null,
        _dlt_id varchar not null unique
    """,
    QUARANTINED_FILES_TABLE: """
        file_name varchar not null,
        reason varchar not null,
        load_id varchar not null,
        quarantined_at timestamp with time zone not null,
        _dlt_load_id varchar not null,
        _dlt_id varchar not null unique
    """,
}
"""The bookkeeping tables' columns, in the types dlt gives them, so they exist before the first
reject (the loading runner makes them per source; the stream consumer makes its own)."""


class RejectedRecordError(ValueError):
    """A record cannot be loaded as it is; the message is the reason stored with it."""


def parse_timestamp(value: Any, field: str) -> dt.datetime:
    """An ISO-8601 timestamp as an aware UTC datetime, or RejectedRecordError."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise RejectedRecordError(f"{field}: unparseable timestamp {value!r}") from exc
    else:
        raise RejectedRecordError(f"{field}: missing or not a timestamp ({value!r})")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse_date(value: Any, field: str) -> dt.date:
    """An ISO date (``YYYY-MM-DD``), or RejectedRecordError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise RejectedRecordError(f"{field}: unparseable date {value!r}") from exc
    raise RejectedRecordError(f"{field}: missing or not a date ({value!r})")


def parse_decimal(value: Any, field: str, minimum: Decimal | None = None) -> Decimal:
    """A number (or a numeric string) as a Decimal no lower than ``minimum``; else rejected."""
    if isinstance(value, bool) or value is None:
        raise RejectedRecordError(f"{field}: missing or not a number ({value!r})")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise RejectedRecordError(f"{field}: not a number ({value!r})") from exc
    if not number.is_finite():
        raise RejectedRecordError(f"{field}: not a finite number ({value!r})")
    if minimum is not None and number < minimum:
        raise RejectedRecordError(f"{field}: {number} is below {minimum}")
    return number


def parse_int(value: Any, field: str, minimum: int | None = None) -> int:
    """An integer (or an integral string) no lower than ``minimum``, or RejectedRecordError."""
    if isinstance(value, bool) or value is None:
        raise RejectedRecordError(f"{field}: missing or not an integer ({value!r})")
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError as exc:
            raise RejectedRecordError(f"{field}: not an integer ({value!r})") from exc
    if minimum is not None and number < minimum:
        raise RejectedRecordError(f"{field}: {number} is below {minimum}")
    return number


def require_text(value: Any, field: str) -> str:
    """A non-empty string (numbers are accepted as their text), or RejectedRecordError."""
    if isinstance(value, bool) or value is None:
        raise RejectedRecordError(f"{field}: missing")
    text = str(value).strip() if isinstance(value, (str, int)) else None
    if not text:
        raise RejectedRecordError(f"{field}: missing or empty ({value!r})")
    return text


def current_load_id() -> str:
    """The id of the load package being extracted (the future ``_dlt_load_id``).

    Empty when a resource is iterated outside a pipeline (e.g. ``list(resource)``).
    """
    try:
        return str(dlt.current.load_package_state()["load_id"])
    except CurrentLoadPackageStateNotAvailable:
        return ""


def to_payload_text(payload: Any) -> str:
    """The raw payload as JSON text (strings, e.g. an unparseable line, are kept as they
    are), at most ``MAX_PAYLOAD_CHARS`` of it (``bounded_text``)."""
    text = (
        payload
        if isinstance(payload, str)
        else json.dumps(payload, default=str, ensure_ascii=False)
    )
    return bounded_text(text, MAX_PAYLOAD_CHARS)


def bounded_text(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and a note of how many were left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters not kept]"


def routed_row(row: dict[str, Any], table_name: str, columns: dict[str, Any]) -> DataItemWithMeta:
    """A row marked so that dlt writes it to ``table_name`` with its own (append) hints.

    The table variant starts from a copy of the resource's hints: the key hints are
    cleared, so a resource that merges on a key can still emit bookkeeping rows (rejects,
    quarantined files) that have none. Resources that emit such rows therefore declare no
    column hints of their own (those would be copied too); their types come from the data.
    """
    hints = dlt.mark.make_hints(
        table_name=table_name,
        write_disposition="append",
        primary_key="",
        merge_key="",
        columns=columns,
    )
    return dlt.mark.with_hints(row, hints, create_table_variant=True)


def rejected_record(resource: str, reason: str, payload: Any) -> DataItemWithMeta:
    """A row for ``rejected_records``: the resource, the reason, the raw payload, the load id."""
    log.info("rejected a %s record: %s", resource, reason)
    return routed_row(
        {
            "resource": resource,
            "reason": bounded_text(reason, MAX_REASON_CHARS),
            "raw_payload": to_payload_text(payload),
            "load_id": current_load_id(),
            "rejected_at": pendulum.now("UTC"),
        },
        REJECTED_RECORDS_TABLE,
        REJECTED_RECORDS_COLUMNS,
    )


def count_metric(name: str, amount: int = 1) -> None:
    """Add to one of the current resource's custom metrics (read back by the loading layer)."""
    metrics = dlt.current.resource_metrics()
    metrics[name] = int(metrics.get(name, 0)) + amount


def count_records_in(items: Any, meta: Any, metrics: dict[str, Any]) -> None:
    """A dlt metrics step (``resource.add_metrics``) placed after the incremental filter.

    Counts every record the resource hands to dlt (good rows and rejected records alike, but
    not quarantined-file rows): the resource's *records in*. Rows the incremental cursor
    dropped as already loaded never reach it, nor do events whose id the run already carried.
    """
    hints = meta.hints if isinstance(meta, HintsMeta) else None
    if hints and hints.get("table_name") == QUARANTINED_FILES_TABLE:
        return
    if isinstance(meta, ImportFileMeta):
        count = meta.metrics.items_count
    else:
        rows = getattr(items, "num_rows", None)
        count = rows if rows is not None else (len(items) if isinstance(items, list) else 1)
    metrics[METRIC_RECORDS_IN] = int(metrics.get(METRIC_RECORDS_IN, 0)) + int(count)


class RecordsInCounter(MetricsItem):
    """The ``count_records_in`` metrics step, kept behind dlt's incremental filter.

    dlt places pipe steps by affinity and keeps the incremental step at the end; a plain
    ``add_metrics`` step would land before it and also count rows the filter then drops.
    """

    placement_affinity: ClassVar[float] = 1.2

    def __init__(self) -> None:
        super().__init__(count_records_in)
