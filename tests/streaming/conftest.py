"""Fixtures of the stream's tests: a real nats-server from the wheel on a free port (its store
in a temporary folder), a small simulated world in its own operations database, and a fresh
warehouse database per test, pointed at by the environment for `shopflow` subprocesses."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.benchmarking.cli_world import cli_environment
from ingestion.database.connection import create_database, drop_database
from ingestion.loading.runtime import pipelines_dir
from ingestion.settings import ENV_HOST, ENV_NATS_PORT, ConnectionSettings
from ingestion.simulators.world import build_world
from ingestion.streaming import broker
from ingestion.streaming.broker import BrokerPaths
from tests.ports import free_port
from tests.streaming.stream_support import StreamWorld

WORLD_SCALE = 0.01


@pytest.fixture(scope="session")
def stream_ops(server_settings: ConnectionSettings) -> Iterator[ConnectionSettings]:
    """An operations database holding a small world (customers, catalogue) for the producer."""
    suffix = uuid.uuid4().hex[:8]
    settings = server_settings.with_databases(
        f"shopflow_test_stream_{suffix}", f"shopflow_test_stream_{suffix}_ops"
    )
    create_database(settings, settings.ops_database)
    build_world(settings, seed=7, scale=WORLD_SCALE)
    yield settings
    drop_database(settings, settings.ops_database)


@pytest.fixture
def stream_world(
    stream_ops: ConnectionSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[StreamWorld]:
    """A running broker with an empty store, a fresh warehouse database, and the environment
    pointing `shopflow` at both; the broker is stopped and the database dropped afterwards."""
    settings = stream_ops.with_databases(
        f"shopflow_test_stream_{uuid.uuid4().hex[:8]}", stream_ops.ops_database
    )
    create_database(settings, settings.database)
    folder = Path(tempfile.mkdtemp(prefix="shopflow-stream-"))
    paths = BrokerPaths(folder / "nats")
    port = free_port()
    broker.start(paths, port)
    for name, value in cli_environment(settings, folder).items():
        monkeypatch.setenv(name, value)
    if not settings.external:
        monkeypatch.delenv(ENV_HOST, raising=False)
    monkeypatch.setenv(ENV_NATS_PORT, str(port))
    world = StreamWorld(settings, paths, port, folder)
    try:
        yield world
    finally:
        broker.stop(paths, hard=True)
        drop_database(settings, settings.database)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(pipelines_dir(settings), ignore_errors=True)  # the files ingest's state
