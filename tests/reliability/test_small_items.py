"""Smaller faults: a stalling alert webhook, a bad port, an absurd scale, the warehouse lost
mid-ingest. Each ends in plain words and the right exit code, never a traceback or a hang."""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.monitoring import alerts
from ingestion.monitoring.alerts import ENV_ALERT_WEBHOOK, AlertEvent, send_alert
from ingestion.settings import ENV_HOST, ENV_PORT, ConnectionSettings
from tests.alerting import fake_failing_run
from tests.integration.ingest_support import IngestWorld
from tests.loopback import dripping_webhook
from tests.reliability.postgres_proxy import PostgresProxy
from tests.reliability.shopflow_cli import SHOPFLOW, built_world, subprocess_env

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

EVENT = AlertEvent(stage="ingest", what_failed="RuntimeError: storefront down", run_id="r-1")


def test_a_dripping_webhook_cannot_hold_the_alert_past_its_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with dripping_webhook() as url, caplog.at_level(logging.WARNING):
        started = time.monotonic()
        delivered = send_alert(EVENT, webhook_url=url, timeout=2.0, deadline=3.0)
        took = time.monotonic() - started

    assert delivered is False
    assert took < 4.5  # the per-read timeout (2 s) alone never fires: a byte every 0.5 s
    assert "did not answer within 3 s" in caplog.text


def test_shopflow_run_ends_on_time_with_its_own_exit_code_when_the_webhook_stalls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_failing_run(monkeypatch)
    monkeypatch.setattr(alerts, "DEADLINE_SECONDS", 3.0)

    with dripping_webhook() as url:
        monkeypatch.setenv(ENV_ALERT_WEBHOOK, url)
        started = time.monotonic()
        result = CliRunner().invoke(app, ["run"])
        took = time.monotonic() - started

    assert took < 8
    assert result.exit_code == 1  # the failed stage's code, as without a webhook
    said = " ".join(result.output.split())
    assert "failed at stage ingest storefront" in said
    assert "storefront API answered 503 twice" in said
    assert isinstance(result.exception, SystemExit)


def run_shopflow(*args: str, env: dict[str, str], timeout: float = 120) -> tuple[int, str]:
    done = subprocess.run(
        [SHOPFLOW, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("port", ["abc", "99999"])
def test_a_port_that_is_not_a_port_is_one_plain_sentence(
    empty_world: IngestWorld, port: str
) -> None:
    env = subprocess_env(empty_world, **{ENV_PORT: port})
    for command in (("ingest", "files"), ("db", "status")):
        code, output = run_shopflow(*command, env=env)
        assert code == 1, output
        assert "Traceback" not in output
        assert f"{ENV_PORT}=" in output and "1" in output and "65535" in output
        assert output.strip().startswith("error:") and output.count("error:") == 1


def test_an_absurd_scale_is_refused_before_anything_is_built(empty_world: IngestWorld) -> None:
    env = subprocess_env(empty_world)
    for command in (("simulate", "all"), ("run",)):
        code, output = run_shopflow(*command, "--scale", "1e9", env=env)
        assert code == 2, output  # a usage error, like any bad option
        assert "Traceback" not in output
        assert "--scale" in output and "1000" in output
    assert (
        empty_world.scalar("select count(*) from pg_namespace where nspname = 'ops'", ops=True) == 0
    )


@pytest.fixture
def world(
    server_settings: ConnectionSettings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[IngestWorld]:
    with built_world(server_settings, tmp_path_factory.mktemp("gone")) as created:
        yield created


@pytest.mark.slow
def test_the_warehouse_going_away_mid_ingest_ends_with_the_summary_and_a_plain_message(
    world: IngestWorld,
) -> None:
    proxy = PostgresProxy(world.settings)
    # through the proxy, as an external server: nothing is started, every connection passes it
    env = subprocess_env(world, **{ENV_HOST: "127.0.0.1", ENV_PORT: str(proxy.port)})
    process = subprocess.Popen(
        [SHOPFLOW, "ingest", "all"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not world.query(
            "select 1 from pg_tables where schemaname = 'audit' and tablename = 'pipeline_runs'"
        ) or not world.query("select 1 from audit.pipeline_runs where source = 'storefront'"):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the storefront never finished"
            time.sleep(0.2)
        proxy.cut()  # storefront is in; ops is loading
        stdout, stderr = process.communicate(timeout=300)
    finally:
        proxy.cut()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)

    output = stdout + stderr
    assert process.returncode == 1, output
    assert "Traceback" not in output
    assert "shopflow ingest (interrupted)" in stdout  # the summary of what finished
    assert "products" in stdout and "sales" in stdout
    assert "The warehouse stopped answering during ingestion" in stderr
    assert "run `shopflow ingest` again once it is back" in " ".join(stderr.split())
