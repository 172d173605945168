"""One definition of a valid clickstream event, for every way events arrive.

A line of a landing file and a message of the stream are the same thing: JSON text that must
be one object in the documented nested shape (``EVENT_READ_SCHEMA``; other keys go to
``extra_properties``), within the input bounds, with values Postgres can store
(``event_of_line``), and then typed and checked as a table (``event_rows.normalise_events``):
an ``event_id``, an ``event_name``, a timestamp that parses inside the calendar. The files
source (its line-by-line reader) and the stream consumer both call ``validated_events``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from ingestion.sources.files.bounds import (
    BoundExceededError,
    check_line_depth,
    check_value,
)
from ingestion.sources.files.event_rows import Rejects, json_objects_array, normalise_events
from ingestion.sources.files.settings import EVENT_READ_SCHEMA, EXTRA_PROPERTIES
from ingestion.sources.files.storable import bigint_problem, text_problem
from ingestion.sources.validation import RejectedRecordError, parse_int

_NESTED = ("user_identifiers", "product_information")
"""The objects of an event whose values land as text columns (``user_identifiers__id``)."""

EventChunk = tuple[pa.Table, Rejects]
"""Validated events (flattened, typed) and the rejected records of one chunk of a file."""


def validated_events(
    objects: list[dict[str, Any]],
    lines: list[tuple[int, str]],
    rejects: list[tuple[int, tuple[str, Any]]],
    source_file: str,
    unit: str = "line",
) -> EventChunk:
    """The events of some lines (or messages) as a validated table, and every reject in
    line order: ``lines`` are (line number, stored text) beside each object, ``rejects`` the
    lines already refused (number, (reason, payload)); reasons start with ``source_file``
    and the ``unit`` numbered (``line`` of a file, ``message`` of the stream)."""
    table, numbered = numbered_validated_events(objects, lines, rejects, source_file, unit)
    return table, [reject for _, reject in numbered]


def numbered_validated_events(
    objects: list[dict[str, Any]],
    lines: list[tuple[int, str]],
    rejects: list[tuple[int, tuple[str, Any]]],
    source_file: str,
    unit: str,
) -> tuple[pa.Table, list[tuple[int, tuple[str, Any]]]]:
    """``validated_events`` with each reject's number beside it (the stream consumer keys a
    refused message's row and dead letter by it)."""
    numbers: list[int] = []

    def origin(row: int, problem: str) -> tuple[str, Any]:
        number, text = lines[row]
        numbers.append(number)
        return f"{source_file} {unit} {number}: {problem}", text

    table, more = normalise_events(events_table(objects), source_file, origin)
    in_order = sorted([*rejects, *zip(numbers, more, strict=True)], key=lambda pair: pair[0])
    return table, in_order


def event_of_line(line: bytes) -> dict[str, Any]:
    """One JSON line as a conformed event, or RejectedRecordError saying why it cannot load."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RejectedRecordError(
            f"not UTF-8 text (byte 0x{line[exc.start]:02x} at column {exc.start + 1})"
        ) from exc
    try:
        check_line_depth(line)
        value = json.loads(text)
        check_value(value)
    except BoundExceededError as exc:
        raise RejectedRecordError(str(exc)) from exc
    except json.JSONDecodeError as exc:
        raise RejectedRecordError(f"not valid JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise RejectedRecordError("not valid JSON (nested too deeply)") from exc
    if not isinstance(value, dict):
        raise RejectedRecordError("not a JSON object")
    return conform_event(value)


def conform_event(value: dict[str, Any]) -> dict[str, Any]:
    """Coerce the documented fields of one parsed event to their read types, or reject it
    (also when Postgres would refuse one of its values)."""
    known = {field.name: field for field in EVENT_READ_SCHEMA}
    event = {key: item for key, item in value.items() if key in known}
    extras = {key: item for key, item in value.items() if key not in known}
    for nested in _NESTED:
        part = event.get(nested)
        if part is not None and not isinstance(part, dict):
            raise RejectedRecordError(f"{nested}: not an object")
        if isinstance(part, dict):
            documented = {field.name for field in known[nested].type}
            event[nested] = {
                k: (None if v is None else str(v)) for k, v in part.items() if k in documented
            }
            if unknown := {k: v for k, v in part.items() if k not in documented}:
                extras[nested] = unknown
    event[EXTRA_PROPERTIES] = extras or None
    for text_field in ("event_id", "timestamp", "event_name"):
        if event.get(text_field) is not None and not isinstance(event[text_field], str):
            event[text_field] = str(event[text_field])
    if event.get("order_id") is not None:
        event["order_id"] = parse_int(event["order_id"], "order_id")
        if (problem := bigint_problem(event["order_id"])) is not None:
            raise RejectedRecordError(f"order_id: {problem}")
    for field, text in _texts(event):
        if (problem := text_problem(text)) is not None:
            raise RejectedRecordError(f"{field}: {problem}")
    return event


def _texts(event: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every text value of the documented shape, which lands as it is (``extra_properties``
    is JSON text with every character outside ASCII escaped, so it always stores)."""
    for key, value in event.items():
        field = f"{prefix}{key}"
        if isinstance(value, str):
            yield field, value
        elif isinstance(value, dict) and not prefix and key in _NESTED:
            yield from _texts(value, prefix=f"{key}.")


def events_table(objects: list[dict[str, Any]]) -> pa.Table:
    """An Arrow table of conformed events: documented fields typed, every other key in
    ``extra_properties`` (a JSON object as text)."""
    known = [field.name for field in EVENT_READ_SCHEMA]
    table = pa.Table.from_pylist(
        [{name: obj.get(name) for name in known} for obj in objects], schema=EVENT_READ_SCHEMA
    )
    return table.append_column(
        EXTRA_PROPERTIES, json_objects_array([obj.get(EXTRA_PROPERTIES) for obj in objects])
    )
