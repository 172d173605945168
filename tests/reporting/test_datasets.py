"""How values are written: money to the cent, counts as integers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingestion.reporting.datasets import (
    Dataset,
    Series,
    ValueKind,
    axis_value,
    data_value,
    display_value,
)


@pytest.mark.parametrize(
    ("value", "kind", "data", "display"),
    [
        (Decimal("17329.970261"), ValueKind.MONEY, "17329.97", "$17,329.97"),
        (Decimal("0.005"), ValueKind.MONEY, "0.01", "$0.01"),
        (Decimal(0), ValueKind.MONEY, "0.00", "$0.00"),
        (48367, ValueKind.COUNT, "48367", "48,367"),
    ],
)
def test_values_are_written_for_machines_and_people(
    value: Decimal | int, kind: ValueKind, data: str, display: str
) -> None:
    assert data_value(value, kind) == data
    assert display_value(value, kind) == display


@pytest.mark.parametrize(
    ("value", "kind", "label"),
    [
        (80_000, ValueKind.MONEY, "$80k"),
        (2.5e6, ValueKind.COUNT, "2.5M"),
        (40, ValueKind.COUNT, "40"),
    ],
)
def test_axis_labels_are_short(value: float, kind: ValueKind, label: str) -> None:
    assert axis_value(value, kind) == label


def test_a_series_must_have_one_value_per_key() -> None:
    with pytest.raises(ValueError, match="2 values for 1 keys"):
        Dataset("Day", ("2025-01-01",), (Series("Viewers", (1, 2)),))


def test_only_keeps_the_named_series() -> None:
    dataset = Dataset("Day", ("d",), (Series("a", (1,)), Series("b", (2,))))
    assert [s.name for s in dataset.only("b").series] == ["b"]
