"""`shopflow ingest --destination lake`'s refusals, before it touches the warehouse."""

from __future__ import annotations

from typer.testing import CliRunner

from ingestion.cli.app import app


def test_full_refresh_is_refused_for_the_lake() -> None:
    result = CliRunner().invoke(app, ["ingest", "--destination", "lake", "--full-refresh"])
    assert result.exit_code == 1
    assert "leave --full-refresh out" in result.output


def test_an_unknown_source_or_destination_is_refused() -> None:
    result = CliRunner().invoke(app, ["ingest", "--destination", "lake", "ops", "crm"])
    assert result.exit_code == 1
    assert "unknown source 'crm'" in result.output
    result = CliRunner().invoke(app, ["ingest", "--destination", "s3"])
    assert result.exit_code == 2
    assert "warehouse" in result.output and "lake" in result.output
