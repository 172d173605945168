"""`shopflow simulate stream`: publish the simulated clickstream live to the broker."""

from __future__ import annotations

import asyncio

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.project_settings import project_settings
from ingestion.cli.ready import ready_settings
from ingestion.simulators.world import WorldNotBuiltError
from ingestion.simulators.world.live_clickstream import (
    StreamFaults,
    business_now,
    live_messages,
)
from ingestion.streaming.publisher import publish
from ingestion.streaming.topology import BrokerUnreachableError

DEFAULT_SPAN_RATE = 2_000.0
"""Without ``--rate`` the events are timed as if sent at this rate, ending at the world's
business clock."""


def stream(
    events: int = typer.Option(1_000, "--events", min=1, help="Valid events to publish."),
    rate: float | None = typer.Option(
        None, "--rate", min=1.0, help="Messages per second (default: as fast as acknowledged)."
    ),
    duplicates: float = typer.Option(
        0.0, "--duplicates", min=0.0, max=1.0, help="Share of events sent twice (tracker retries)."
    ),
    late_minutes: int = typer.Option(
        0, "--late-minutes", min=0, help="2% of events arrive up to this many minutes late."
    ),
    malformed: int = typer.Option(
        0, "--malformed", min=0, help="Extra messages that are not events."
    ),
    seed: int | None = typer.Option(
        None, "--seed", help="Same seed, same messages (default: new)."
    ),
) -> None:
    """Publish live clickstream events (the landing files' generator, timed at the simulated
    world's business clock) to the broker started by `shopflow stream start`, each
    acknowledged by the stream."""
    config = project_settings()
    settings = ready_settings()
    span = max(1, int(events / (rate or DEFAULT_SPAN_RATE)))
    faults = StreamFaults(duplicates=duplicates, late_minutes=late_minutes, malformed=malformed)
    try:
        # on the world's calendar, as its orders are: see live_clickstream's docstring
        now = business_now(settings)
        window = (now, now + span) if rate else (now - span, now)
        messages = live_messages(settings, events, window, faults, seed)
    except WorldNotBuiltError as exc:
        fail(str(exc))
    try:
        done = asyncio.run(publish(config.nats_url, messages, rate))
    except BrokerUnreachableError as exc:
        fail(str(exc))
    console.print(
        f"Published {done.stored:,} messages ({events:,} events) in {done.seconds:.1f} s"
        + (
            f"; the broker dropped {done.dropped_as_duplicates:,} repeats"
            if done.dropped_as_duplicates
            else ""
        )
        + ".",
        highlight=False,
    )
