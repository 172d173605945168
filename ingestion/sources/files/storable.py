"""What Postgres would refuse, checked before the load rather than discovered by it.

A value Postgres refuses fails the whole load job, and dlt keeps retrying that package
before anything else: one bad value would freeze the source. So the files source rejects
such a row itself (a rejected record naming the file and line) and loads the rest:

- text with a NUL character (``text`` cannot hold it) or that is not UTF-8;
- an integer outside ``bigint``;
- a decimal that does not fit dlt's ``numeric(38, 9)`` once rounded to 9 decimals;
- a timestamp outside 0001-01-01 .. 9999-12-31 UTC (Postgres refuses year 0 and before;
  later years it stores, but Python clients cannot read them back).
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from dlt.common.arithmetics import DEFAULT_NUMERIC_PRECISION, DEFAULT_NUMERIC_SCALE

BIGINT_MIN = -(1 << 63)
BIGINT_MAX = (1 << 63) - 1
NUMERIC_LIMIT = Decimal(10) ** (DEFAULT_NUMERIC_PRECISION - DEFAULT_NUMERIC_SCALE)
"""A dlt ``decimal`` column is ``numeric(38, 9)``: below 10^29 once rounded to 9 decimals."""
NUMERIC_STEP = Decimal(1).scaleb(-DEFAULT_NUMERIC_SCALE)
EARLIEST_TIMESTAMP = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
LATEST_TIMESTAMP = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
TIMESTAMP_RANGE = "0001-01-01 to 9999-12-31 UTC"


def storable_text(text: str) -> str:
    """``text`` as Postgres can store it: NUL characters and undecodable bytes (surrogate
    escapes) written as backslash escapes. For reasons and raw payloads."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def storable_name(name: str) -> bool:
    """Whether a file name can be stored as text (a name that is not UTF-8 cannot)."""
    return text_problem(name) is None


def text_problem(text: str) -> str | None:
    """Why Postgres would refuse ``text``, or None."""
    if "\x00" in text:
        return "contains a NUL character, which Postgres text cannot hold"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not UTF-8 text (an unpaired surrogate)"
    return None


def bigint_problem(number: int) -> str | None:
    """Why ``number`` does not fit a ``bigint``, or None."""
    if BIGINT_MIN <= number <= BIGINT_MAX:
        return None
    return f"{number} is beyond the 64-bit integer range of the column (bigint)"


def numeric_problem(number: Decimal) -> str | None:
    """Why ``number`` does not fit dlt's ``numeric(38, 9)``, or None."""
    if not number.is_finite():
        return f"{number} is not a finite number"
    if number.copy_abs() < NUMERIC_LIMIT:  # copy_abs: abs() would round to 28 digits
        with localcontext() as context:
            context.prec = 2 * DEFAULT_NUMERIC_PRECISION
            rounded = number.quantize(NUMERIC_STEP, rounding=ROUND_HALF_UP)
            if rounded.copy_abs() < NUMERIC_LIMIT:
                return None
    return (
        f"{number} does not fit the column's numeric({DEFAULT_NUMERIC_PRECISION},"
        f"{DEFAULT_NUMERIC_SCALE}) (below 10^{DEFAULT_NUMERIC_PRECISION - DEFAULT_NUMERIC_SCALE})"
    )


def timestamp_problem(value: dt.datetime) -> str | None:
    """Why Postgres would refuse (or clients could not read) ``value``, or None."""
    if value.tzinfo is None:
        return None  # naive: stored as it is, and Python already limits it to years 1-9999
    try:
        value.astimezone(dt.UTC)
    except OverflowError:
        return f"{value.isoformat()} is outside {TIMESTAMP_RANGE}"
    return None


def value_problem(value: Any) -> str | None:
    """Why Postgres would refuse one field value of a row, or None (for dict rows)."""
    if isinstance(value, str):
        return text_problem(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return bigint_problem(value)
    if isinstance(value, Decimal):
        return numeric_problem(value)
    if isinstance(value, dt.datetime):
        return timestamp_problem(value)
    return None
