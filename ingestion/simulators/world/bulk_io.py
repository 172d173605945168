"""Fast table I/O with COPY: frames in via an in-memory CSV, query results out the same way."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd
import psycopg2.extensions

log = logging.getLogger(__name__)

Cursor = psycopg2.extensions.cursor


def copy_frame(cur: Cursor, table: str, frame: pd.DataFrame) -> int:
    """Append ``frame`` to ``table`` (columns by name) with one ``COPY ... FROM STDIN``.

    Empty strings and missing values arrive as NULL. Returns the number of rows copied.
    """
    if frame.empty:
        return 0
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    columns = ", ".join(frame.columns)
    cur.copy_expert(f"copy {table} ({columns}) from stdin with (format csv)", buffer)
    log.debug("copied %d rows into %s", len(frame), table)
    return len(frame)


def read_frame(
    cur: Cursor,
    query: str,
    params: Mapping[str, Any] | None = None,
    dtypes: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Run ``query`` through ``COPY (...) TO STDOUT`` and parse the CSV into a frame.

    Select timestamps as epoch seconds (``extract(epoch from ts)::bigint``); ``dtypes`` fixes
    column types, which matters for empty results.
    """
    text = cur.mogrify(query, params).decode() if params else query
    buffer = io.StringIO()
    cur.copy_expert(f"copy ({text}) to stdout with (format csv, header)", buffer)
    buffer.seek(0)
    frame = pd.read_csv(buffer, keep_default_na=False, na_values=[""])
    for column, dtype in (dtypes or {}).items():
        frame[column] = frame[column].astype(dtype)
    return frame
