"""The bounds every landing-file reader keeps: line length, nesting depth, keys, value size.

A hostile line must never reach a parser that could crash, hang or fill memory on it: a line
nested 100,000 arrays deep used to crash Arrow's JSON reader natively (a segmentation fault on
every run). So the line-by-line reader measures a line before it parses it (its length while
reading, its nesting depth with a scan of its bytes outside strings), and the parsed value
after (keys per object, text length), and rejects the line naming the bound it broke. The
bounds are constants in ``settings``; no real delivery comes near them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import IO, Any

import numpy as np
import pyarrow.parquet as pq

from ingestion.sources.files.settings import (
    MAX_COLUMNS,
    MAX_JSON_DEPTH,
    MAX_KEYS_PER_OBJECT,
    MAX_LINE_BYTES,
    MAX_ROW_GROUP_BYTES,
    MAX_VALUE_CHARS,
)

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENERS = np.zeros(256, dtype=np.int8)
_OPENERS[[ord("["), ord("{")]] = 1
_OPENERS[[ord("]"), ord("}")]] = -1

LINE_TOO_LONG = f"longer than the {MAX_LINE_BYTES}-byte line limit (MAX_LINE_BYTES)"


class BoundExceededError(ValueError):
    """An input breaks one of the reader's bounds; the message names the bound."""


def bounded_lines(handle: IO[bytes], limit: int = MAX_LINE_BYTES) -> Iterator[tuple[bytes, bool]]:
    """The lines of a binary file, each ``(line, whole)``: a line longer than ``limit`` bytes
    comes back as its first ``limit`` bytes with ``whole`` False, and the rest of it is
    skipped unread into memory, so no line costs more than ``limit`` bytes."""
    while True:
        line = handle.readline(limit + 1)
        if not line:
            return
        if len(line) <= limit or line.endswith(b"\n"):
            yield line, True
            continue
        while True:  # skip to the end of the long line, a block at a time
            rest = handle.readline(limit)
            if not rest or rest.endswith(b"\n"):
                break
        yield line[:limit], False


def nesting_depth(line: bytes) -> int:
    """The deepest nesting of arrays and objects in one JSON line, found without parsing it:
    strings are cut out, then the brackets left are summed (numpy)."""
    structure = np.frombuffer(_JSON_STRING.sub(b'""', line), dtype=np.uint8)
    if structure.size == 0:
        return 0
    return max(int(np.cumsum(_OPENERS[structure], dtype=np.int64).max()), 0)


def check_line_depth(line: bytes) -> None:
    """BoundExceededError when a JSON line nests deeper than ``MAX_JSON_DEPTH``."""
    depth = nesting_depth(line)
    if depth > MAX_JSON_DEPTH:
        raise BoundExceededError(
            f"nested {depth} levels deep, beyond the limit of {MAX_JSON_DEPTH} (MAX_JSON_DEPTH)"
        )


def check_value(value: Any) -> None:
    """BoundExceededError when a parsed JSON value holds an object with more than
    ``MAX_KEYS_PER_OBJECT`` keys or a text (value or key) longer than ``MAX_VALUE_CHARS``.

    Walked without recursion; the depth is already bounded by ``check_line_depth``.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if len(item) > MAX_KEYS_PER_OBJECT:
                raise BoundExceededError(
                    f"an object has {len(item)} keys, beyond the limit of "
                    f"{MAX_KEYS_PER_OBJECT} (MAX_KEYS_PER_OBJECT)"
                )
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and len(item) > MAX_VALUE_CHARS:
            raise BoundExceededError(value_too_long(len(item)))


def value_too_long(length: int) -> str:
    """The reason for a text value of ``length`` characters beyond ``MAX_VALUE_CHARS``."""
    return (
        f"a text value of {length} characters, beyond the limit of {MAX_VALUE_CHARS}"
        " (MAX_VALUE_CHARS)"
    )


def check_columns(count: int) -> None:
    """BoundExceededError when a file has more than ``MAX_COLUMNS`` columns."""
    if count > MAX_COLUMNS:
        raise BoundExceededError(
            f"{count} columns, beyond the limit of {MAX_COLUMNS} (MAX_COLUMNS)"
        )


def check_parquet(parquet: pq.ParquetFile) -> None:
    """BoundExceededError when a Parquet file has more than ``MAX_COLUMNS`` columns (leaf
    columns: a nested field counts each of its parts) or a row group larger than
    ``MAX_ROW_GROUP_BYTES`` uncompressed (a row group is read whole). Read from the footer,
    before any data."""
    metadata = parquet.metadata
    check_columns(metadata.num_columns)
    for index in range(metadata.num_row_groups):
        size = metadata.row_group(index).total_byte_size
        if size > MAX_ROW_GROUP_BYTES:
            raise BoundExceededError(
                f"row group {index + 1} holds {size} bytes, beyond the limit of "
                f"{MAX_ROW_GROUP_BYTES} (MAX_ROW_GROUP_BYTES)"
            )
