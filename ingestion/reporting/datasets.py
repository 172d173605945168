"""The figures behind one chart: named series of values over ordered keys, and how a value
is written (on the page, and in the ``data-value`` attributes a test compares with the marts).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

Number = int | Decimal
CENT = Decimal("0.01")


def to_cents(value: Number) -> Decimal:
    """Rounded to the cent, halves away from zero (as Postgres' ``round(x, 2)``)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class ValueKind(StrEnum):
    """How a series' values read: money in USD (to the cent) or a count."""

    MONEY = "money"
    COUNT = "count"


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[Number, ...]
    kind: ValueKind = ValueKind.COUNT


@dataclass(frozen=True)
class Dataset:
    """Values of each series for each key (a month, a day, a category, a run), in key order."""

    key_label: str
    keys: tuple[str, ...]
    series: tuple[Series, ...]

    def __post_init__(self) -> None:
        for series in self.series:
            if len(series.values) != len(self.keys):
                raise ValueError(
                    f"series {series.name!r} has {len(series.values)} values "
                    f"for {len(self.keys)} keys"
                )

    @property
    def is_empty(self) -> bool:
        return not self.keys or not self.series

    def only(self, *names: str) -> Dataset:
        """The same keys with only the named series (e.g. what a chart draws of a table)."""
        return Dataset(self.key_label, self.keys, tuple(s for s in self.series if s.name in names))


def data_value(value: Number, kind: ValueKind) -> str:
    """The machine-readable value: money with exactly two decimals, counts as integers."""
    if kind is ValueKind.MONEY:
        return f"{to_cents(value):f}"
    return str(int(value))


def display_value(value: Number, kind: ValueKind) -> str:
    """The value as a person reads it: ``$12,345.67`` or ``12,345``."""
    if kind is ValueKind.MONEY:
        return f"${to_cents(value):,}"
    return f"{int(value):,}"


def axis_value(value: float, kind: ValueKind) -> str:
    """A short axis tick label: ``$12k``, ``1.5M``, ``40``."""
    prefix = "$" if kind is ValueKind.MONEY else ""
    magnitude = abs(value)
    for threshold, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= threshold:
            return f"{prefix}{value / threshold:g}{suffix}"
    return f"{prefix}{value:g}"
