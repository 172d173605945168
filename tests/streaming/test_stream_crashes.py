"""A consumer that fails at the worst moments, in this process and at a chosen point: inside
the batch's transaction (after the raw rows, before the windows and the commit), and after
the commit but before the acknowledgements. Either way a rerun lands every event once."""

from __future__ import annotations

import pytest

from ingestion.streaming import consumer, raw_writer
from tests.streaming.stream_support import StreamWorld, event_ids

pytestmark = pytest.mark.slow


class CrashError(RuntimeError):
    """Stands for the process dying at the patched point."""


def test_a_crash_inside_the_batch_transaction_writes_nothing_of_it(
    stream_world: StreamWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = stream_world.messages(1_000)
    stream_world.publish(messages)
    counted = raw_writer.windows.count_batch
    calls = []

    def crash_on_third_batch(*args: object, **kwargs: object) -> tuple[int, int]:
        calls.append(1)
        if len(calls) == 3:
            raise CrashError("after the raw insert, before the windows and the commit")
        return counted(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(raw_writer.windows, "count_batch", crash_on_third_batch)
    with pytest.raises(CrashError):
        stream_world.consume(batch_size=200)
    assert stream_world.streamed_events() == 400  # two batches committed, the third not at all
    monkeypatch.setattr(raw_writer.windows, "count_batch", counted)
    assert stream_world.consume(batch_size=200).inserted == 600
    stream_world.assert_landed_once(event_ids(messages))


def test_a_crash_between_the_commit_and_the_acks_counts_nothing_twice(
    stream_world: StreamWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = stream_world.messages(1_000)
    stream_world.publish(messages)

    async def crash(*args: object) -> None:
        raise CrashError("committed, not acknowledged")

    settle = consumer._settle
    monkeypatch.setattr(consumer, "_settle", crash)
    with pytest.raises(CrashError):
        stream_world.consume(batch_size=200)
    assert stream_world.streamed_events() == 200
    monkeypatch.setattr(consumer, "_settle", settle)
    rerun = stream_world.consume(batch_size=200)  # the batch comes back after the ack wait
    assert rerun.already_loaded == 200
    assert rerun.inserted == 800
    stream_world.assert_landed_once(event_ids(messages))
