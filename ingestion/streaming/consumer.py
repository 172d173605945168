"""`shopflow stream consume`: the shared durable pull consumer, batch by batch.

Each batch: fetch up to ``batch_size`` messages, validate them with the files source's
definition of an event (``event_records``), write the batch in ONE transaction
(``raw_writer``: raw rows, windows, rejected records), commit, then publish the refused ones to
the dead-letter subject and acknowledge every message. A consumer that dies before the commit
leaves its messages unacknowledged: the broker delivers them again after ``ack_wait`` to
whichever process fetches next, and nothing of the batch was written. One that dies after the
commit but before the acks has its messages delivered again too: the raw table already holds
their ``event_id`` s, so they are neither inserted nor counted twice, and a refused message's
row is keyed by its stream sequence. Several processes may run at once: they share the one
durable consumer (each message goes to one of them) and take turns to commit.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import nats.errors
import pyarrow as pa
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from ingestion.database.connection import connect as connect_database
from ingestion.settings import ConnectionSettings
from ingestion.sources.files.bounds import LINE_TOO_LONG
from ingestion.sources.files.event_records import event_of_line, numbered_validated_events
from ingestion.sources.files.settings import MAX_LINE_BYTES
from ingestion.sources.files.storable import storable_text
from ingestion.sources.validation import RejectedRecordError
from ingestion.streaming import raw_writer
from ingestion.streaming.raw_writer import BatchResult, Refused
from ingestion.streaming.topology import (
    DEAD_LETTER_SUBJECT,
    DURABLE,
    STREAM,
    SUBJECTS,
    connect,
    consumer_config,
    ensure_streams,
    jetstream,
)

log = logging.getLogger(__name__)

RETRY_SECONDS = 0.5
SOURCE = f"stream:{STREAM}"
"""What ``source_file`` says of a streamed event, and how a refusal's reason starts."""


@dataclass(frozen=True)
class ConsumeOptions:
    """How one consumer process runs."""

    allowed_lateness_seconds: int
    batch_size: int = 1_000
    until_idle: bool = False
    """Stop once the stream has nothing left for any consumer (none pending, none unacked)."""
    idle_seconds: float = 1.0
    """How long a fetch waits for messages before the consumer looks whether it is idle."""
    ack_wait_seconds: float | None = None
    """Override of the consumer's redelivery delay (tests shorten it)."""


@dataclass
class ConsumeSummary:
    """What one consumer process did."""

    batches: int = 0
    messages: int = 0
    inserted: int = 0
    already_loaded: int = 0
    late: int = 0
    rejected: int = 0
    seconds: float = 0.0

    def add(self, messages: int, result: BatchResult) -> None:
        self.batches += 1
        self.messages += messages
        self.inserted += result.inserted
        self.already_loaded += result.already_loaded
        self.late += result.late
        self.rejected += result.rejected


def _key(message: Msg) -> str:
    """A refused message's stored key: its stream sequence and its ``Nats-Msg-Id``."""
    message_id = (message.headers or {}).get("Nats-Msg-Id", "")
    return f"{SOURCE}:{message.metadata.sequence.stream}:{message_id[:64]}"


def validate(messages: list[Msg]) -> tuple[pa.Table, list[Refused]]:
    """The batch's valid events (an Arrow table) and its refused messages, with reasons."""
    objects: list[dict[str, object]] = []
    lines: list[tuple[int, str]] = []
    early: list[tuple[int, tuple[str, object]]] = []
    keys: dict[int, str] = {}
    for message in messages:
        sequence = message.metadata.sequence.stream
        keys[sequence] = _key(message)
        data = message.data
        try:
            if len(data) > MAX_LINE_BYTES:
                raise RejectedRecordError(f"the message is {LINE_TOO_LONG}")
            objects.append(event_of_line(data))
            lines.append((sequence, storable_text(data.decode("utf-8"))))
        except RejectedRecordError as exc:
            text = storable_text(data[:MAX_LINE_BYTES].decode("utf-8", "backslashreplace"))
            early.append((sequence, (f"{SOURCE} message {sequence}: {exc}", text)))
    table, numbered = numbered_validated_events(objects, lines, early, SOURCE, unit="message")
    refused = [Refused(keys[number], reason, payload) for number, (reason, payload) in numbered]
    return table, refused


def _header_text(text: str) -> str:
    """``text`` as a header value can hold it: one line of ASCII, at most 500 characters."""
    flat = " ".join(text[:500].split())
    return flat.encode("ascii", "backslashreplace").decode("ascii")


async def _idle(subscription: JetStreamContext.PullSubscription) -> bool:
    """Whether no message is left for any consumer process (none pending, none unacked)."""
    try:
        info = await subscription.consumer_info()
    except NotFoundError:
        return True
    except nats.errors.Error:  # cannot tell (the broker restarts): not idle
        return False
    return not info.num_pending and not info.num_ack_pending


async def _settle(
    client: Client, js: JetStreamContext, messages: list[Msg], refused: list[Refused]
) -> None:
    """After the commit: the refused messages to the dead-letter subject (deduplicated by
    their key), then every message of the batch acknowledged."""
    for refusal in refused:
        await js.publish(
            DEAD_LETTER_SUBJECT,
            str(refusal.payload).encode("utf-8", "backslashreplace"),
            headers={"Nats-Msg-Id": refusal.key, "Shopflow-Reason": _header_text(refusal.reason)},
        )
    for message in messages:
        await message.ack()
    await client.flush()


async def consume(
    server_url: str, settings: ConnectionSettings, options: ConsumeOptions
) -> ConsumeSummary:
    """Run the consumer until stopped (or, with ``until_idle``, until nothing is left)."""
    summary = ConsumeSummary()
    started = time.monotonic()
    client = await connect(server_url, name="shopflow-consumer")
    database = connect_database(settings)
    try:
        js = jetstream(client)
        await ensure_streams(client)
        config = consumer_config()
        if options.ack_wait_seconds is not None:
            config.ack_wait = options.ack_wait_seconds
        # create the durable consumer, or bring an existing one to this configuration
        # (binding by pull_subscribe alone would keep an earlier ack wait)
        await js.add_consumer(STREAM, config)
        subscription = await js.pull_subscribe(SUBJECTS[0], durable=DURABLE, stream=STREAM)
        with database, database.cursor() as cur:
            raw_writer.prepare(cur)
        while True:
            try:
                messages = await subscription.fetch(
                    options.batch_size, timeout=options.idle_seconds
                )
            except TimeoutError:  # nats' own, and the plain one fetch also raises
                if options.until_idle and await _idle(subscription):
                    break
                continue
            except nats.errors.Error as exc:  # the broker restarts: the client reconnects
                log.warning("fetch failed (%s); trying again", exc)
                await asyncio.sleep(RETRY_SECONDS)
                continue
            table, refused = validate(messages)
            with database, database.cursor() as cur:
                result = raw_writer.write_batch(
                    cur, table, refused, options.allowed_lateness_seconds
                )
            summary.add(len(messages), result)
            try:
                await _settle(client, js, messages, refused)
            except nats.errors.Error as exc:
                # committed but not acknowledged: delivered again, and found already loaded
                log.warning("batch %s committed, acks lost (%s)", result.load_id, exc)
            log.info(
                "batch %s: %d messages, %d inserted, %d late, %d refused",
                result.load_id,
                len(messages),
                result.inserted,
                result.late,
                result.rejected,
            )
    finally:
        database.close()
        await client.close()
    summary.seconds = time.monotonic() - started
    return summary


def run(server_url: str, settings: ConnectionSettings, options: ConsumeOptions) -> ConsumeSummary:
    """``consume`` from synchronous code (the CLI)."""
    return asyncio.run(consume(server_url, settings, options))
