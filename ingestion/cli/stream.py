"""`shopflow stream ...`: the NATS JetStream broker of the clickstream and its consumer."""

from __future__ import annotations

import asyncio

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.streaming import broker
from ingestion.streaming.broker import BrokerError, BrokerPaths
from ingestion.streaming.topology import (
    DURABLE,
    STREAM,
    connect,
    consumer_backlog,
    ensure_streams,
)

app = typer.Typer(
    help="Run the clickstream broker (NATS JetStream) and its consumer.", no_args_is_help=True
)


async def _declare_streams(server_url: str) -> None:
    client = await connect(server_url, name="shopflow-stream-start")
    try:
        await ensure_streams(client.jetstream())
    finally:
        await client.close()


@app.command()
def start() -> None:
    """Start the local NATS server with JetStream and declare the streams (a no-op if it runs)."""
    settings = project_settings()
    paths = BrokerPaths.under(settings.state_dir)
    try:
        started = broker.start(paths, settings.nats_port)
        asyncio.run(_declare_streams(broker.url(settings.nats_port)))
    except BrokerError as exc:
        fail(str(exc))
    where = f"{broker.HOST}:{settings.nats_port}"
    if started:
        console.print(f"Started the local NATS server on {where}, stream {STREAM} ready.")
    else:
        console.print(f"The local NATS server already runs on {where}; stream {STREAM} ready.")


@app.command()
def stop() -> None:
    """Stop the local NATS server (only ours, found by its pid file and store)."""
    paths = BrokerPaths.under(project_settings().state_dir)
    stopped = broker.stop(paths)
    console.print(
        "Stopped the local NATS server." if stopped else "The local NATS server was not running."
    )


@app.command()
def status() -> None:
    """Say whether the broker runs, and how far the consumer is behind (exit 3 when stopped)."""
    settings = project_settings()
    state = broker.status(BrokerPaths.under(settings.state_dir))
    if not state.running:
        console.print(f"local NATS server: stopped (store in {state.store})")
        raise SystemExit(3)
    console.print(
        f"local NATS server: running (pid {state.pid}) on {broker.HOST}:{state.port}, "
        f"store in {state.store}"
    )
    backlog = asyncio.run(consumer_backlog(broker.url(settings.nats_port)))
    console.print(
        f"stream {STREAM}: {backlog.messages:,} messages kept; consumer {DURABLE}: "
        f"{backlog.pending:,} not yet delivered, {backlog.unacknowledged:,} awaiting ack",
        highlight=False,
    )
