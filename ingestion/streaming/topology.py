"""The broker's streams and the consumer, declared once (docs/streaming.md, "The stream").

``CLICKSTREAM`` holds every clickstream message on ``shopflow.events.>`` for at most
``MAX_AGE_SECONDS`` and ``MAX_BYTES`` (the oldest go first: a consumer down longer than that
loses messages, which the files path still delivers by night); ``CLICKSTREAM_DEAD_LETTER``
keeps what the consumer refused, on its own subject so the consumer never reads it back.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

log = logging.getLogger(__name__)

STREAM = "CLICKSTREAM"
SUBJECTS = ("shopflow.events.>",)
EVENTS_SUBJECT = "shopflow.events.clickstream"
"""Where the producer publishes (one subject: order per subject is kept, and the consumer's
work is shared by pulling, not by subject)."""
DEAD_LETTER_STREAM = "CLICKSTREAM_DEAD_LETTER"
DEAD_LETTER_SUBJECT = "shopflow.dead_letter.events"
DURABLE = "warehouse"
"""The one durable pull consumer every consumer process shares: each message goes to one of
them, and the stream remembers what was acknowledged across restarts."""

MAX_AGE_SECONDS = 7 * 24 * 3600
MAX_BYTES = 1 << 30
DUPLICATE_WINDOW_SECONDS = 120.0
"""The broker drops a message whose ``Nats-Msg-Id`` it saw this recently; older repeats pass
and the consumer's ``event_id`` check drops them."""
ACK_WAIT_SECONDS = 30.0
"""A message fetched but not acknowledged within this is delivered again (a consumer that
died mid-batch): a batch must commit well within it."""
MAX_ACK_PENDING = 20_000
CLUSTER_REPLICAS = 3
"""Replicas of a stream created on a cluster (R3): a message is stored on three servers
before its publication is acknowledged, so one server can be lost."""


API_TIMEOUT_SECONDS = 30.0
"""How long a JetStream API call (a stream's info, its update, a publication's ack) may wait
for the server: nats-py's 5 s default timed out under load on 2 busy cores."""


def jetstream(client: Client) -> JetStreamContext:
    """The client's JetStream context, with ``API_TIMEOUT_SECONDS`` for every API call."""
    return client.jetstream(timeout=API_TIMEOUT_SECONDS)


class BrokerUnreachableError(ConnectionError):
    """No NATS server answers at the URL; the message says what to do."""


async def _log_error(exc: Exception) -> None:
    log.warning("nats: %s", exc)


async def connect(server_url: str, *, name: str) -> Client:
    """A client that keeps reconnecting while the broker restarts; BrokerUnreachableError at
    once when nothing listens there to begin with (the client would otherwise retry forever)."""
    address = urlsplit(server_url)
    try:
        socket.create_connection((address.hostname, address.port or 4222), timeout=2).close()
    except OSError as exc:
        raise BrokerUnreachableError(
            f"No NATS server answers at {server_url} ({exc.strerror or exc}): start it with "
            "`shopflow stream start` (or set SHOPFLOW_NATS_PORT to its port)."
        ) from exc
    return await nats.connect(
        servers=[server_url],
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.2,
        connect_timeout=5,
        error_cb=_log_error,
    )


def replicas_for(client: Client) -> int:
    """Copies of each message a new stream keeps: ``CLUSTER_REPLICAS`` on a cluster (the
    server we reached told us of at least two others), else 1 (a single server)."""
    return CLUSTER_REPLICAS if len(client.discovered_servers) >= CLUSTER_REPLICAS - 1 else 1


async def ensure_streams(client: Client) -> None:
    """Create the clickstream and dead-letter streams, or bring existing ones to this
    configuration (keeping their replica count: an operator may have scaled it)."""
    js = jetstream(client)
    for config in (
        StreamConfig(
            name=STREAM,
            subjects=list(SUBJECTS),
            max_age=MAX_AGE_SECONDS,
            max_bytes=MAX_BYTES,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
        StreamConfig(
            name=DEAD_LETTER_STREAM,
            subjects=[DEAD_LETTER_SUBJECT],
            max_age=MAX_AGE_SECONDS,
            max_bytes=MAX_BYTES // 8,
            storage=StorageType.FILE,
        ),
    ):
        try:
            existing = await js.stream_info(config.name or "")
        except NotFoundError:
            config.num_replicas = replicas_for(client)
            log.info("creating stream %s (R%d)", config.name, config.num_replicas)
            await js.add_stream(config)
            continue
        config.num_replicas = existing.config.num_replicas
        await js.update_stream(config)


def consumer_config() -> ConsumerConfig:
    """The shared durable pull consumer: explicit acks, redelivery after ``ACK_WAIT_SECONDS``,
    no limit on deliveries (a message is never dropped because the warehouse was down)."""
    return ConsumerConfig(
        durable_name=DURABLE,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=ACK_WAIT_SECONDS,
        max_ack_pending=MAX_ACK_PENDING,
        filter_subject=SUBJECTS[0],
    )


@dataclass(frozen=True)
class Backlog:
    """How far the shared consumer is behind the stream."""

    messages: int
    """Messages the stream keeps (acknowledged ones too, until their age or size limit)."""
    pending: int
    """Messages not yet delivered to any consumer process."""
    unacknowledged: int
    """Messages delivered but not yet acknowledged (a batch in flight, or a dead consumer's)."""


async def consumer_backlog(server_url: str) -> Backlog:
    """The stream's size and the shared consumer's backlog (zero when it does not exist yet)."""
    client = await connect(server_url, name="shopflow-stream-status")
    try:
        js = jetstream(client)
        await ensure_streams(client)
        stream = await js.stream_info(STREAM)
        try:
            info = await js.consumer_info(STREAM, DURABLE)
        except NotFoundError:
            return Backlog(stream.state.messages, stream.state.messages, 0)
        return Backlog(stream.state.messages, info.num_pending or 0, info.num_ack_pending or 0)
    finally:
        await client.close()
