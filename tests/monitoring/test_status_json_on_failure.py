"""`shopflow status --json` prints JSON on stdout whatever happens: a machine reading it gets
the failure as data, and a person the same sentence on stderr."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.settings import ENV_HOST, ENV_PORT
from tests.ports import free_port


def test_a_warehouse_that_cannot_be_reached_is_red_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_HOST, "127.0.0.1")  # an external server: none is started for it
    monkeypatch.setenv(ENV_PORT, str(free_port()))
    result = CliRunner().invoke(app, ["status", "--json"])
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["healthy"] is False and document["verdict"] == "red"
    assert "Cannot reach a Postgres server" in document["error"]
    assert document["problems"] == [document["error"]]
    assert "error: Cannot reach" in result.stderr and "Traceback" not in result.output
