"""Publishing to the clickstream with JetStream acknowledgements, optionally at a set rate."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from nats.js.api import PubAck

from ingestion.streaming.topology import EVENTS_SUBJECT, STREAM, connect, ensure_streams, jetstream

log = logging.getLogger(__name__)

IN_FLIGHT = 2_000
"""Messages published before their acknowledgements are awaited (a window, not one by one)."""


class Message(Protocol):
    """What the publisher sends: a dedup id for the broker and a body."""

    @property
    def message_id(self) -> str: ...

    @property
    def payload(self) -> bytes: ...


@dataclass(frozen=True)
class Published:
    """What a publication did: messages acknowledged as stored, and those the broker dropped
    as repeats of a ``Nats-Msg-Id`` inside its duplicate window."""

    stored: int
    dropped_as_duplicates: int
    seconds: float


async def publish(
    server_url: str, messages: Sequence[Message], rate: float | None = None
) -> Published:
    """Publish ``messages`` in order to the clickstream; every one is acknowledged by the
    stream before this returns. ``rate``: at most that many messages per second."""
    client = await connect(server_url, name="shopflow-producer")
    started = time.monotonic()
    stored = duplicates = 0
    try:
        js = jetstream(client)
        await ensure_streams(client)
        window: list[asyncio.Future[PubAck]] = []
        for index, message in enumerate(messages):
            if rate:
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            window.append(
                await js.publish_async(
                    EVENTS_SUBJECT,
                    message.payload,
                    stream=STREAM,
                    headers={"Nats-Msg-Id": message.message_id},
                )
            )
            if len(window) >= IN_FLIGHT:
                acks = await asyncio.gather(*window)
                stored += len(acks)
                duplicates += sum(1 for ack in acks if ack.duplicate)
                window = []
        acks = await asyncio.gather(*window)
        stored += len(acks)
        duplicates += sum(1 for ack in acks if ack.duplicate)
    finally:
        await client.close()
    seconds = time.monotonic() - started
    log.info(
        "published %d messages in %.1f s (%d dropped as duplicates)", stored, seconds, duplicates
    )
    return Published(stored - duplicates, duplicates, seconds)
