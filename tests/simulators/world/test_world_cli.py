"""`shopflow simulate ...` and the `simulate` stage of `shopflow run`, on their own database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.database.connection import create_database, drop_database
from ingestion.settings import ENV_OPS_DATABASE, ConnectionSettings
from ingestion.simulators.world.pipeline_step import prepare_sources

pytestmark = pytest.mark.integration


@pytest.fixture
def fresh_ops(
    warehouse_env: ConnectionSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[ConnectionSettings]:
    """Environment pointing at a brand-new, empty ops database and a temporary landing zone."""
    name = f"{warehouse_env.ops_database}_cli{uuid.uuid4().hex[:6]}"
    settings = warehouse_env.with_databases(warehouse_env.database, name)
    create_database(settings, name)
    monkeypatch.setenv(ENV_OPS_DATABASE, name)
    monkeypatch.setenv("SHOPFLOW_LANDING_DIR", str(tmp_path / "landing"))
    yield settings
    drop_database(settings, name)


def clock(settings: ConnectionSettings) -> tuple:
    with psycopg2.connect(settings.ops_url) as conn, conn.cursor() as cur:
        cur.execute("select ticks, business_time::date::text from sim.clock")
        row = cur.fetchone()
    conn.close()
    return row


def test_ops_refuses_an_existing_world_unless_reset(fresh_ops: ConnectionSettings) -> None:
    runner = CliRunner()

    first = runner.invoke(app, ["simulate", "ops", "--seed", "5", "--scale", "0.05"])
    again = runner.invoke(app, ["simulate", "ops", "--scale", "0.05"])
    reset = runner.invoke(app, ["simulate", "ops", "--scale", "0.05", "--reset"])

    assert first.exit_code == 0, first.output
    assert again.exit_code == 1 and "--reset" in again.output
    assert reset.exit_code == 0, reset.output
    assert clock(fresh_ops) == (0, "2026-01-01")


def test_all_then_tick_then_files_with_faults(
    fresh_ops: ConnectionSettings, tmp_path: Path
) -> None:
    runner = CliRunner()
    landing = tmp_path / "landing"

    built = runner.invoke(app, ["simulate", "all", "--scale", "0.05"])
    ticked = runner.invoke(app, ["simulate", "tick", "--days", "2"])
    faulty = runner.invoke(app, ["simulate", "files", "--bad-date", "--duplicate-file"])

    assert built.exit_code == 0, built.output
    assert ticked.exit_code == 0, ticked.output
    assert faulty.exit_code == 0, faulty.output
    assert clock(fresh_ops) == (1, "2026-01-03")
    assert (landing / "marketing_spend/spend_20250101.csv").exists()
    assert (landing / "marketing_spend/spend_20260102.csv").exists()
    assert (landing / "clickstream/events_20260101_2.jsonl").exists()
    assert "bad_date" in faulty.output


def test_tick_without_a_world_says_what_to_do(fresh_ops: ConnectionSettings) -> None:
    result = CliRunner().invoke(app, ["simulate", "tick"])

    assert result.exit_code == 1
    assert "shopflow simulate ops" in result.output


def test_pipeline_step_builds_once_then_ticks_on_request(fresh_ops: ConnectionSettings) -> None:
    built = prepare_sources(fresh_ops, seed=42, scale=0.05)
    unchanged = prepare_sources(fresh_ops, seed=42, scale=0.05)
    ticked = prepare_sources(fresh_ops, seed=42, scale=0.05, tick_days=2)

    assert built.startswith("built world")
    assert unchanged.startswith("sources unchanged")
    assert ticked.startswith("tick 1")
    assert clock(fresh_ops) == (1, "2026-01-03")
