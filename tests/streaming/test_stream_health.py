"""When the stream is red in `shopflow status`: a backlog past the limit. A broker that is
down while the warehouse has streamed windows is a warning; a stream never used is nothing."""

from __future__ import annotations

from ingestion.streaming.health import LAG_LIMIT_MESSAGES, StreamHealth
from ingestion.streaming.topology import Backlog


def health(pending: int, reachable: bool = True, has_windows: bool = True) -> StreamHealth:
    backlog = Backlog(messages=pending, pending=pending, unacknowledged=0) if reachable else None
    return StreamHealth(broker_reachable=reachable, backlog=backlog, has_windows=has_windows)


def test_a_consumer_within_the_lag_limit_is_healthy() -> None:
    assert health(LAG_LIMIT_MESSAGES).problem() is None


def test_a_consumer_past_the_lag_limit_is_red_and_says_what_to_do() -> None:
    problem = health(LAG_LIMIT_MESSAGES + 1).problem()
    assert problem is not None
    assert "shopflow stream consume" in problem


def test_a_broker_down_is_a_warning_only_where_the_stream_is_used() -> None:
    assert health(0, reachable=False, has_windows=False).warning() is None
    down = health(0, reachable=False, has_windows=True)
    assert down.problem() is None
    warning = down.warning()
    assert warning is not None
    assert "shopflow stream start" in warning
