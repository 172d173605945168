"""Engine-neutral checksums: equal values print equal whichever engine returned them, any
changed, added or missing value changes the checksum, and a difference names its columns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ingestion.spark.parity import checksum, differences, normalised


@pytest.mark.parametrize(
    ("postgres", "spark"),
    [
        (Decimal("10.50"), Decimal("10.500000")),  # numeric(12,2) against a wider decimal
        (Decimal("0.00"), Decimal("0E-6")),
        (Decimal("100"), Decimal("1E+2")),
        (0.1 + 0.2, 0.3),  # sums in another order
        (
            datetime(2025, 3, 1, 12, 0, tzinfo=timezone(timedelta(hours=1))),
            datetime(2025, 3, 1, 11, 0),  # Spark's naive timestamp in a UTC session
        ),
        (date(2025, 3, 1), date(2025, 3, 1)),
        (True, True),
        (None, None),
    ],
)
def test_equal_values_print_equal(postgres: object, spark: object) -> None:
    assert normalised(postgres) == normalised(spark)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (Decimal("10.50"), Decimal("10.51")),  # a cent
        (Decimal("1"), 1.0000001),
        (datetime(2025, 3, 1, 11, 0, tzinfo=UTC), datetime(2025, 3, 1, 11, 0, 0, 1, tzinfo=UTC)),
        (True, 1),
        (None, ""),
        (None, "\x00null "),
        ("a", "A"),
    ],
)
def test_different_values_print_differently(one: object, other: object) -> None:
    assert normalised(one) != normalised(other)


ROWS = [(1, Decimal("9.99"), "web"), (2, Decimal("5.00"), "app"), (3, None, "store")]
COLUMNS = ("id", "amount", "channel")


def test_the_checksum_ignores_row_order() -> None:
    assert checksum(COLUMNS, ROWS) == checksum(COLUMNS, list(reversed(ROWS)))


def test_a_changed_value_is_found_with_its_column() -> None:
    changed = [ROWS[0], (2, Decimal("5.01"), "app"), ROWS[2]]
    found = differences({"mart": checksum(COLUMNS, ROWS)}, {"mart": checksum(COLUMNS, changed)})
    assert found == ["mart: same 3 rows, values differ in amount"]


def test_values_swapped_between_rows_change_the_checksum() -> None:
    """Per-column sums alone would not see two rows trading a value; the row hash does."""
    swapped = [(1, Decimal("5.00"), "web"), (2, Decimal("9.99"), "app"), ROWS[2]]
    assert (
        checksum(COLUMNS, ROWS).by_column["amount"]
        == checksum(COLUMNS, swapped).by_column["amount"]
    )
    assert differences({"m": checksum(COLUMNS, ROWS)}, {"m": checksum(COLUMNS, swapped)}) == [
        "m: same 3 rows, values differ in no single column (rows combine them differently)"
    ]


def test_missing_rows_relations_and_columns_are_named() -> None:
    full = checksum(COLUMNS, ROWS)
    assert differences({"m": full}, {"m": checksum(COLUMNS, ROWS[:2])}) == ["m: 3 rows against 2"]
    assert differences({"m": full}, {}) == ["m: only on the left"]
    fewer = checksum(("id", "amount"), [row[:2] for row in ROWS])
    assert differences({"m": full}, {"m": fewer}) == ["m: the column sets differ (channel)"]
    assert differences({"m": full}, {"m": checksum(COLUMNS, ROWS)}) == []
