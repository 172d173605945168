"""What the stream's tests do to their world: publish, consume (here or in a `shopflow`
subprocess), and read the warehouse and the broker back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingestion.database.connection import connect
from ingestion.settings import ConnectionSettings
from ingestion.simulators.world.live_clickstream import StreamFaults, StreamMessage, live_messages
from ingestion.streaming import broker
from ingestion.streaming.broker import BrokerPaths
from ingestion.streaming.consumer import ConsumeOptions, ConsumeSummary, consume
from ingestion.streaming.publisher import Published, publish
from ingestion.streaming.topology import DEAD_LETTER_STREAM
from ingestion.streaming.topology import connect as connect_broker

LATENESS_SECONDS = 120
ACK_WAIT_SECONDS = 2.0
"""Short, so a killed consumer's batch comes back within the test."""


@dataclass(frozen=True)
class StreamWorld:
    settings: ConnectionSettings
    paths: BrokerPaths
    port: int
    folder: Path

    @property
    def url(self) -> str:
        return broker.url(self.port)

    def messages(
        self, count: int, faults: StreamFaults | None = None, *, ago: int = 0, seconds: int = 30
    ) -> list[StreamMessage]:
        """``count`` live events timed in the ``seconds`` that ended ``ago`` seconds ago."""
        end = int(time.time()) - ago
        return live_messages(self.settings, count, (end - seconds, end), faults)

    def publish(self, messages: list[StreamMessage]) -> Published:
        return asyncio.run(publish(self.url, messages))

    def consume(self, batch_size: int = 500) -> ConsumeSummary:
        """A consumer in this process, until nothing is left."""
        options = ConsumeOptions(
            allowed_lateness_seconds=LATENESS_SECONDS,
            batch_size=batch_size,
            until_idle=True,
            ack_wait_seconds=ACK_WAIT_SECONDS,
        )
        return asyncio.run(consume(self.url, self.settings, options))

    def spawn_consumer(self, batch_size: int = 200) -> subprocess.Popen[str]:
        """`shopflow stream consume --until-idle` in its own process (the environment points
        it at this world)."""
        return subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from ingestion.cli.app import main; main()",
                "stream",
                "consume",
                "--until-idle",
                "--batch-size",
                str(batch_size),
                "--ack-wait",
                str(ACK_WAIT_SECONDS),
            ],
            env={**os.environ, "SHOPFLOW_STREAM_LATENESS_SECONDS": str(LATENESS_SECONDS)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def rows(self, statement: str) -> list[tuple[Any, ...]]:
        conn = connect(self.settings)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(statement)
                return list(cur.fetchall())
        finally:
            conn.close()

    def scalar(self, statement: str) -> Any:
        return self.rows(statement)[0][0]

    def streamed_events(self) -> int:
        return int(self.scalar("select count(*) from raw_files.events"))

    def wait_for_events(self, at_least: int, timeout: float = 60.0) -> None:
        """Wait until the raw table holds ``at_least`` events (the table may not exist yet)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            exists = self.scalar("select to_regclass('raw_files.events') is not null")
            if exists and self.streamed_events() >= at_least:
                return
            time.sleep(0.05)
        raise AssertionError(f"fewer than {at_least} events landed within {timeout} s")

    def assert_landed_once(self, event_ids: set[str]) -> None:
        """Every event exactly once in the raw table, and counted exactly once: in a window or
        among the late events."""
        landed = self.rows("select event_id, count(*) from raw_files.events group by event_id")
        assert {event_id for event_id, _ in landed} == event_ids
        assert max(count for _, count in landed) == 1
        windows = self.scalar(
            "select coalesce(sum(event_count), 0) from realtime.event_counts_per_minute"
        )
        late = self.scalar("select count(*) from realtime.late_events")
        assert windows + late == len(event_ids)

    def dead_letters(self) -> int:
        async def count() -> int:
            client = await connect_broker(self.url, name="test")
            try:
                info = await client.jetstream().stream_info(DEAD_LETTER_STREAM)
                return int(info.state.messages)
            finally:
                await client.close()

        return asyncio.run(count())


def event_ids(messages: list[StreamMessage]) -> set[str]:
    """The ids of the valid events among ``messages`` (faults' extra messages left out)."""
    return {m.message_id for m in messages if not m.message_id.startswith("malformed-")} - {
        m.message_id for m in messages if m.message_id.endswith(":again")
    }
