"""`--scale` takes a size from 0.001 to 1000; anything else is one sentence saying what it is."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.cli.simulate import parse_scale


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("nan", "'nan' is not a number (NaN)"),
        ("-nan", "'-nan' is not a number (NaN)"),
        ("", "'' is not a number"),
        (" ", "' ' is not a number"),
        ("ten", "'ten' is not a number"),
        ("inf", "'inf' is more than 1000"),
        ("1e400", "'1e400' is more than 1000"),
        ("1e9", "'1e9' is more than 1000"),
        ("-0", "'-0' is less than 0.001"),
        ("-1", "'-1' is less than 0.001"),
        ("0.0001", "'0.0001' is less than 0.001"),
    ],
)
def test_a_scale_that_cannot_build_a_world_is_one_sentence(text: str, said: str) -> None:
    with pytest.raises(typer.BadParameter) as caught:
        parse_scale(text)
    message = str(caught.value)
    assert message.startswith(said)
    assert message.endswith(
        "give a size from 0.001 to 1000 (1 = 1,000 customers and 5,000 orders)."
    )


@pytest.mark.parametrize(("text", "value"), [("0.001", 0.001), ("0.05", 0.05), ("1000", 1000.0)])
def test_sizes_in_range_are_taken(text: str, value: float) -> None:
    assert parse_scale(text) == value


@pytest.mark.parametrize("command", [["simulate", "ops"], ["simulate", "all"], ["run"]])
def test_every_command_with_a_scale_refuses_nan_before_it_starts(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--scale", "nan"])
    assert result.exit_code == 2
    assert "is not a number (NaN)" in " ".join(result.output.split())
    assert "Traceback" not in result.output
