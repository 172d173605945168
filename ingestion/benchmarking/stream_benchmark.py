"""`scripts/benchmark stream`: the clickstream's fast path measured end to end.

Each round gets a throwaway world (a small simulated world for the producer, an empty
warehouse) and its own nats-server on a free port, and runs the consumers as `shopflow stream
consume` processes, as an operator would:

- throughput: ``--events`` events published first, then one (and then two) consumers land
  them; the rate is taken between the first and the last batch's load id (a process's start
  is not the stream's speed) and beside it the wall time including the start;
- latency: a consumer runs while the producer publishes at ``--rate`` for ``--seconds``; an
  event's latency is its batch's load id (taken in the batch transaction, just before the
  insert; the commit follows within milliseconds) minus the moment it was due to be sent.

Prints a Markdown table; the figures are copied into docs/streaming.md by hand, with the load
average beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingestion.benchmarking.cli_world import SHOPFLOW, CliWorld, cli_environment, throwaway_world
from ingestion.database.connection import connect
from ingestion.database.durability import Durability
from ingestion.database.server_settings import connection_settings
from ingestion.database.service import ensure_ready
from ingestion.settings import ENV_NATS_PORT
from ingestion.simulators.world import build_world
from ingestion.simulators.world.live_clickstream import live_messages
from ingestion.streaming import broker
from ingestion.streaming.broker import BrokerPaths
from ingestion.streaming.publisher import publish

log = logging.getLogger(__name__)

WORLD_SCALE = 0.01


@dataclass(frozen=True)
class StreamWorld:
    world: CliWorld
    port: int
    env: dict[str, str]

    def consumer(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [SHOPFLOW, "stream", "consume", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def load_ids(self) -> list[tuple[str, float, int]]:
        """(event_id, load id as seconds, rows of that batch) of every landed event."""
        conn = connect(self.world.settings)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    "select event_id, _dlt_load_id::numeric::float8, "
                    "count(*) over (partition by _dlt_load_id) from raw_files.events"
                )
                return list(cur.fetchall())
        finally:
            conn.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((broker.HOST, 0))
        return int(probe.getsockname()[1])


@contextmanager
def stream_world(workdir: Path) -> Iterator[StreamWorld]:
    server = ensure_ready(connection_settings(), durability=Durability.FAST).settings
    with throwaway_world(server, workdir, prefix="shopflow_stream_") as world:
        build_world(world.settings, seed=7, scale=WORLD_SCALE)
        paths = BrokerPaths(world.folder / "nats")
        port = _free_port()
        broker.start(paths, port)
        env = {**os.environ, **cli_environment(world.settings, world.folder)}
        env[ENV_NATS_PORT] = str(port)
        try:
            yield StreamWorld(world, port, env)
        finally:
            broker.stop(paths)


def throughput(workdir: Path, events: int, consumers: int) -> tuple[float, float]:
    """Events/s of ``consumers`` processes landing ``events`` published beforehand:
    (between the first and last batch, over the wall time including process start)."""
    with stream_world(workdir) as world:
        now = int(time.time())
        messages = live_messages(world.world.settings, events, (now - 60, now))
        asyncio.run(publish(broker.url(world.port), messages))
        started = time.monotonic()
        processes = [world.consumer("--until-idle") for _ in range(consumers)]
        for process in processes:
            process.wait()
        wall = time.monotonic() - started
        landed = world.load_ids()
        batches = sorted({(load_id, rows) for _, load_id, rows in landed})
        span = batches[-1][0] - batches[0][0]
        steady = (len(landed) - batches[0][1]) / span if span > 0 else float("nan")
        return steady, len(landed) / wall


def latency(workdir: Path, rate: float, seconds: int) -> tuple[float, float, float]:
    """(p50, p95, max) seconds from an event's due send time to its batch's load id, with
    one consumer running while the producer publishes at ``rate`` for ``seconds``."""
    with stream_world(workdir) as world:
        count = int(rate * seconds)
        now = int(time.time())
        messages = live_messages(world.world.settings, count, (now, now + seconds))
        process = world.consumer()
        time.sleep(3.0)  # the consumer's start, not part of an event's latency
        sent_from = time.time()
        asyncio.run(publish(broker.url(world.port), messages, rate))
        deadline = time.monotonic() + 120
        while len(landed := world.load_ids()) < count and time.monotonic() < deadline:
            time.sleep(0.5)
        process.terminate()
        process.wait()
        due = {m.message_id: sent_from + index / rate for index, m in enumerate(messages)}
        delays = np.array([load_id - due[event_id] for event_id, load_id, _ in landed])
        p50, p95 = np.percentile(delays, [50, 95])
        return float(p50), float(p95), float(delays.max())


def main(argv: list[str] | None = None) -> None:
    """Run the rounds and print the table."""
    parser = argparse.ArgumentParser(prog="scripts/benchmark stream", description=__doc__)
    parser.add_argument("--events", type=int, default=40_000, help="Events per throughput round.")
    parser.add_argument(
        "--rate", type=float, default=2_000.0, help="Events/s of the latency round."
    )
    parser.add_argument("--seconds", type=int, default=60, help="Length of the latency round.")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="Scratch folder (default: temp)."
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="shopflow-stream-bench-"))
    rows = []
    for consumers in (1, 2):
        steady, wall = throughput(workdir, args.events, consumers)
        rows.append(
            f"| {consumers} consumer(s), {args.events:,} events | {steady:,.0f} events/s "
            f"(wall with process start: {wall:,.0f}) |"
        )
    p50, p95, worst = latency(workdir, args.rate, args.seconds)
    rows.append(
        f"| {args.rate:,.0f} events/s for {args.seconds} s: publish -> in realtime | "
        f"p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s |"
    )
    load = " / ".join(f"{value:.2f}" for value in os.getloadavg())
    print("| round | result |\n|---|---|\n" + "\n".join(rows))
    print(f"\nload average at the end (1/5/15 min): {load}; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
