"""`shopflow --help` stays fast: the command modules, and the heavy libraries they bring, load
only when their command runs; the command list still shows each command's own help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import COMMANDS, LazyCommand, app

# Each takes a noticeable part of a second to import; none is needed to list the commands.
HEAVY = ("dlt", "dbt", "pandas", "pyarrow", "numpy", "psycopg2", "sqlalchemy", "apprise", "fastapi")

# Imports the app, renders `shopflow --help`, prints which heavy top-level packages got loaded.
PROBE = """
import json, sys
from typer.testing import CliRunner
from ingestion.cli.app import app
result = CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0, result.output
heavy = sys.argv[1].split(",")
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(heavy))))
"""


def test_help_loads_no_heavy_library() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(probe.stdout) == []


def test_a_command_loads_its_module_only_when_it_runs() -> None:
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; import ingestion.cli.app; print('ingestion.cli.run' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "False"


@pytest.mark.parametrize("lazy", COMMANDS, ids=lambda command: command.name)
def test_listed_help_is_the_commands_own(lazy: LazyCommand) -> None:
    """The help read from the source is the one typer builds from the loaded command."""
    assert lazy.help_text() is not None
    assert lazy.help_text() == lazy.load().help


def test_every_command_has_its_options_and_help() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for lazy in COMMANDS:
        assert lazy.name in listing.output
        shown = runner.invoke(app, [lazy.name, "--help"])
        assert shown.exit_code == 0, shown.output
        assert "Usage: root " + lazy.name in " ".join(shown.output.split())


def test_an_unknown_command_suggests_a_lazy_one() -> None:
    result = CliRunner().invoke(app, ["statu"])
    assert result.exit_code == 2
    assert "Did you mean 'status'?" in result.output
