"""`shopflow stream ...`: the NATS JetStream broker of the clickstream and its consumer."""

from __future__ import annotations

import asyncio
import datetime as dt
from urllib.parse import urlsplit

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.cli.ready import ready_settings
from ingestion.database.errors import DatabaseError
from ingestion.streaming import broker
from ingestion.streaming.broker import BrokerError, BrokerPaths
from ingestion.streaming.consumer import ConsumeOptions, run
from ingestion.streaming.health import read_health
from ingestion.streaming.topology import (
    DURABLE,
    STREAM,
    BrokerUnreachableError,
    connect,
    ensure_streams,
)

app = typer.Typer(
    help="Run the clickstream broker (NATS JetStream) and its consumer.", no_args_is_help=True
)


async def _declare_streams(server_url: str) -> None:
    client = await connect(server_url, name="shopflow-stream-start")
    try:
        await ensure_streams(client)
    finally:
        await client.close()


@app.command()
def start() -> None:
    """Start the local NATS server with JetStream and declare the streams (a no-op if it runs;
    with an external server, SHOPFLOW_NATS_HOST, only the streams are declared)."""
    settings = project_settings()
    address = urlsplit(settings.nats_url)
    try:
        started = address.hostname == broker.HOST and broker.start(
            BrokerPaths.under(settings.state_dir), address.port or 0
        )
        asyncio.run(_declare_streams(settings.nats_url))
    except (BrokerError, BrokerUnreachableError) as exc:
        fail(str(exc))
    where = f"{address.hostname}:{address.port}"
    if address.hostname != broker.HOST:
        console.print(f"Using the external NATS server at {where}; stream {STREAM} ready.")
    elif started:
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
    """Show the broker, the consumer's backlog (pending, lag), the last closed window and the
    landing rate; exit 3 when the broker is stopped or unreachable, 1 when the stream is red."""
    config = project_settings()
    address = urlsplit(config.nats_url)
    if address.hostname != broker.HOST:
        console.print(f"external NATS server at {address.hostname}:{address.port}")
    elif (state := broker.status(BrokerPaths.under(config.state_dir))).running:
        console.print(
            f"local NATS server: running (pid {state.pid}) on {broker.HOST}:{state.port}, "
            f"store in {state.store}"
        )
    else:
        console.print(f"local NATS server: stopped (store in {state.store})")
    try:
        health = read_health(config.nats_url, ready_settings())
    except DatabaseError as exc:
        fail(str(exc))
    if health.backlog is not None:
        backlog = health.backlog
        console.print(
            f"stream {STREAM}: {backlog.messages:,} messages kept; consumer {DURABLE}: "
            f"{backlog.pending:,} pending, {backlog.unacknowledged:,} awaiting ack "
            f"(lag {health.lag:,})",
            highlight=False,
        )
    if health.has_windows:
        console.print(
            f"windows: latest event {_when(health.latest_event_at)}, watermark "
            f"{_when(health.watermark_at)}, last closed window "
            f"{_when(health.last_closed_window_at)}; landed {health.rate:,.1f} events/s "
            "over the last minute",
            highlight=False,
        )
    if (problem := health.problem()) is not None:
        fail(problem)
    if (warning := health.warning()) is not None:
        console.print(f"warning: {warning}", highlight=False)
    if not health.broker_reachable:
        raise SystemExit(3)


def _when(moment: dt.datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


@app.command()
def consume(
    until_idle: bool = typer.Option(
        False, "--until-idle", help="Stop once no message is left (default: run until stopped)."
    ),
    batch_size: int = typer.Option(1_000, "--batch-size", min=1, help="Messages per batch."),
    ack_wait: float | None = typer.Option(
        None, "--ack-wait", min=1.0, help="Seconds before an unacknowledged message comes back."
    ),
) -> None:
    """Land the clickstream in the raw events table and the realtime windows, batch by batch
    (one transaction each, acknowledged after the commit); several processes share the work."""
    config = project_settings()
    settings = ready_settings()
    options = ConsumeOptions(
        allowed_lateness_seconds=config.stream_lateness_seconds,
        batch_size=batch_size,
        until_idle=until_idle,
        ack_wait_seconds=ack_wait,
    )
    try:
        done = run(config.nats_url, settings, options)
    except BrokerUnreachableError as exc:
        fail(str(exc))
    console.print(
        f"Consumed {done.messages:,} messages in {done.batches:,} batches ({done.seconds:.1f} s): "
        f"{done.inserted:,} events landed, {done.already_loaded:,} already loaded, "
        f"{done.late:,} late, {done.rejected:,} refused.",
        highlight=False,
    )
