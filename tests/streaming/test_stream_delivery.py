"""The stream's promises, against a real nats-server and a real warehouse: every event once in
the raw table and in the windows, whatever the producer, the consumers or the broker do."""

from __future__ import annotations

import re
import signal

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.simulators.world.live_clickstream import StreamFaults
from ingestion.streaming import broker
from tests.streaming.stream_support import StreamWorld, event_ids

pytestmark = pytest.mark.slow


def test_events_land_once_and_poison_goes_to_dead_letter(stream_world: StreamWorld) -> None:
    messages = stream_world.messages(3_000, StreamFaults(duplicates=0.05, malformed=4))
    published = stream_world.publish(messages)
    assert published.stored == len(messages)
    summary = stream_world.consume()
    ids = event_ids(messages)
    assert len(ids) == 3_000
    stream_world.assert_landed_once(ids)
    assert summary.already_loaded == len(messages) - 3_000 - 4 > 0  # the tracker's retries
    reasons = [r for (r,) in stream_world.rows("select reason from raw_files.rejected_records")]
    assert len(reasons) == 4
    assert all(reason.startswith("stream:CLICKSTREAM message ") for reason in reasons)
    assert stream_world.dead_letters() == 4
    assert stream_world.rows("select distinct _arrived_by from raw_files.events") == [("stream",)]
    # the same messages again inside the broker's window: dropped by their Nats-Msg-Id
    again = stream_world.publish(messages[:100])
    assert again.dropped_as_duplicates == 100
    assert stream_world.consume().messages == 0
    assert stream_world.scalar("select count(*) from raw_files.rejected_records") == 4


def test_late_events_are_counted_apart_and_closed_windows_never_change(
    stream_world: StreamWorld,
) -> None:
    on_time = stream_world.messages(500)
    stream_world.publish(on_time)
    stream_world.consume()
    closed = "select * from realtime.closed_windows order by 1, 2, 3"
    before = stream_world.rows(closed)
    late = stream_world.messages(200, ago=600)  # ten minutes old: their windows have closed
    stream_world.publish(late)
    assert stream_world.consume().late == 200
    assert stream_world.rows(closed) == before
    assert stream_world.scalar("select count(*) from realtime.late_events") == 200
    stream_world.assert_landed_once(event_ids(on_time) | event_ids(late))


def test_a_consumer_down_for_ten_minutes_catches_up_in_its_windows(
    stream_world: StreamWorld,
) -> None:
    """Ten minutes of events published while no consumer runs: the broker keeps them, and the
    consumer that comes back lands them all on time (the watermark follows the events it has
    read, not the clock), every minute of the outage in its own window."""
    before = stream_world.messages(300, ago=660, seconds=60)
    stream_world.publish(before)
    stream_world.consume()
    outage = stream_world.messages(3_000, ago=30, seconds=600)  # while the consumer was down
    stream_world.publish(outage)
    summary = stream_world.consume()
    assert summary.late == 0
    stream_world.assert_landed_once(event_ids(before) | event_ids(outage))
    minutes = stream_world.scalar(
        "select count(distinct window_start_at) from realtime.event_counts_per_minute"
    )
    assert minutes >= 11  # the minute before and the ten of the outage


def test_kill_9_of_a_consumer_then_a_rerun_lands_every_event_once(
    stream_world: StreamWorld,
) -> None:
    messages = stream_world.messages(8_000)
    stream_world.publish(messages)
    consumer = stream_world.spawn_consumer(batch_size=200)
    stream_world.wait_for_events(1_000)
    consumer.send_signal(signal.SIGKILL)
    consumer.wait(timeout=30)
    assert consumer.returncode == -signal.SIGKILL
    assert stream_world.streamed_events() < 8_000, "the consumer finished before the kill"
    stream_world.consume()  # gets the dead consumer's batch again after the ack wait
    stream_world.assert_landed_once(event_ids(messages))


def test_a_broker_restart_mid_stream_loses_nothing(stream_world: StreamWorld) -> None:
    messages = stream_world.messages(8_000)
    stream_world.publish(messages)
    consumer = stream_world.spawn_consumer(batch_size=200)
    stream_world.wait_for_events(1_000)
    assert broker.stop(stream_world.paths)
    broker.start(stream_world.paths, stream_world.port)
    output, _ = consumer.communicate(timeout=120)
    assert consumer.returncode == 0, output
    stream_world.assert_landed_once(event_ids(messages))


def test_two_consumers_share_the_work(stream_world: StreamWorld) -> None:
    messages = stream_world.messages(8_000)
    stream_world.publish(messages)
    consumers = [stream_world.spawn_consumer(batch_size=100) for _ in range(2)]
    outputs = [consumer.communicate(timeout=120)[0] for consumer in consumers]
    assert [consumer.returncode for consumer in consumers] == [0, 0], outputs
    taken = [
        int(re.search(r"Consumed ([\d,]+) messages", out)[1].replace(",", "")) for out in outputs
    ]
    assert min(taken) > 0 and sum(taken) >= 8_000, outputs
    stream_world.assert_landed_once(event_ids(messages))


def test_the_same_events_by_file_and_by_stream_land_once(stream_world: StreamWorld) -> None:
    messages = stream_world.messages(600)
    landing = stream_world.folder / "landing" / "clickstream"
    landing.mkdir(parents=True)
    first_half = messages[:300]
    (landing / "events_20261201_1.jsonl").write_bytes(
        b"".join(m.payload + b"\n" for m in first_half)
    )
    runner = CliRunner()
    result = runner.invoke(app, ["ingest", "files"])
    assert result.exit_code == 0, result.output
    stream_world.publish(messages)
    assert stream_world.consume().inserted == 300
    # the whole lot in a file afterwards: the stream's events are not loaded again
    (landing / "events_20261201_2.jsonl").write_bytes(b"".join(m.payload + b"\n" for m in messages))
    result = runner.invoke(app, ["ingest", "files"])
    assert result.exit_code == 0, result.output
    arrived = dict(
        stream_world.rows("select _arrived_by, count(*) from raw_files.events group by 1")
    )
    assert arrived == {"file": 300, "stream": 300}
    assert stream_world.scalar("select count(distinct event_id) from raw_files.events") == 600
    assert (
        stream_world.scalar("select sum(event_count) from realtime.event_counts_per_minute") == 300
    )
