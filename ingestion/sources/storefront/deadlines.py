"""A total deadline per storefront request, and an overall budget for its retries.

``requests`` only bounds each socket read, so an API that answers a byte every few seconds
(in its headers or its body) holds a request for as long as it drips. Here every attempt is
watched by a timer: when the attempt outlives its deadline, the timer shuts the attempt's
socket down (which wakes the blocked read at once), and the attempt fails with
:class:`RequestDeadlineError`, a ``requests`` timeout, so the retry policy counts it as a
transient failure. The retries stop at the attempt limit or when the budget is spent,
whichever comes first; the table's run then fails with nothing loaded and its cursor kept.
A refused connection (nothing listens at the address) is retried for a short budget of its
own: an API restarting comes back within seconds, a stopped one never does. Each retry is
logged, so a piped log shows what the wait is for.

The socket is found by the pool's connections: each notes its socket, as it starts waiting
for the answer, to the attempt running in the current thread (keep-alive reuse included).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from dlt.sources.helpers.requests.retry import (
    DEFAULT_RETRY_EXCEPTIONS,
    DEFAULT_RETRY_STATUS,
    retry_if_status,
    wait_exponential_retry_after,
)
from dlt.sources.helpers.requests.session import Session
from requests import PreparedRequest, RequestException, Response
from requests.adapters import HTTPAdapter
from requests.exceptions import Timeout
from tenacity import (
    RetryCallState,
    Retrying,
    retry_any,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    stop_any,
)
from tenacity.stop import stop_base
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEADLINE_SETTING = "SOURCES__STOREFRONT__REQUEST_DEADLINE_SECONDS"
BUDGET_SETTING = "SOURCES__STOREFRONT__REQUEST_RETRY_BUDGET_SECONDS"

log = logging.getLogger(__name__)

TOO_MANY_REQUESTS = 429

_current = threading.local()


class RequestDeadlineError(Timeout):
    """One attempt of a request outlived its total deadline and was abandoned."""


class ConnectionRefusedByApiError(RequestException):
    """Every attempt of a request was refused for longer than the refused budget."""


class Attempt:
    """One attempt of one request: the sockets it reads, shut down when it is overdue."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self.expired = False

    def reads(self, sock: socket.socket | None) -> None:
        """The attempt waits for its answer on ``sock`` (cut at once if already overdue)."""
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            overdue = self.expired
        if overdue:
            self._shut(sock)

    def expire(self) -> None:
        """The timer's action: mark the attempt overdue and cut its sockets."""
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        # shutdown, not close: it wakes a read blocked in another thread at once
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _note_socket(sock: socket.socket | None) -> None:
    attempt = getattr(_current, "attempt", None)
    if attempt is not None:
        attempt.reads(sock)


class _WatchedConnection(HTTPConnection):
    # the socket is noted as the answer is awaited: http.client drops its own reference
    # to it once the headers say the connection closes, while the body is still read
    def getresponse(self) -> Any:
        _note_socket(self.sock)
        return super().getresponse()


class _WatchedHTTPSConnection(HTTPSConnection):
    def getresponse(self) -> Any:
        _note_socket(self.sock)
        return super().getresponse()


class _WatchedPool(HTTPConnectionPool):
    ConnectionCls = _WatchedConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """An adapter whose pools tell the running attempt which connection it got."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedPool,
            "https": _WatchedHTTPSPool,
        }


def shown_url(url: str | None) -> str:
    """The URL without any user or password (the API key travels in a header, never here)."""
    parts = urlsplit(url or "")
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


def with_deadline(
    send: Callable[..., Response], deadline_seconds: float, read_timeout_seconds: float
) -> Callable[..., Response]:
    """``send`` (one attempt, body included) abandoned after ``deadline_seconds``."""

    def send_within_deadline(request: PreparedRequest, **kwargs: Any) -> Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = read_timeout_seconds
        attempt = Attempt()
        timer = threading.Timer(deadline_seconds, attempt.expire)
        timer.daemon = True
        outer = getattr(_current, "attempt", None)  # a redirect sends from inside a send
        _current.attempt = attempt
        started = time.monotonic()
        timer.start()
        try:
            return send(request, **kwargs)
        except (RequestException, OSError) as exc:
            if attempt.expired:
                raise RequestDeadlineError(
                    f"storefront: {request.method} {shown_url(request.url)} was abandoned"
                    f" after {time.monotonic() - started:.1f} s, past its {deadline_seconds:g} s"
                    f" deadline ({DEADLINE_SETTING})"
                ) from exc
            raise
        finally:
            timer.cancel()
            _current.attempt = outer

    return send_within_deadline


def refused(exc: BaseException | None) -> bool:
    """Whether a request failed because nothing accepted its connection: requests wraps the
    socket's ``ConnectionRefusedError`` in urllib3's errors (as cause, context or reason)."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError):
            return True
        reason = getattr(current, "reason", None)
        nested = [arg for arg in current.args if isinstance(arg, BaseException)]
        pending += [current.__cause__, current.__context__, *nested]
        pending += [reason] if isinstance(reason, BaseException) else []
    return False


def _failure(state: RetryCallState) -> BaseException | None:
    outcome = state.outcome
    return outcome.exception() if outcome is not None and outcome.failed else None


class refused_for(stop_base):  # noqa: N801 (named like tenacity's stop conditions)
    """Stop when the last attempt was refused and ``budget_seconds`` have passed."""

    def __init__(self, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = retry_state.seconds_since_start or 0
        return refused(_failure(retry_state)) and elapsed >= self.budget_seconds


def failed_url(failure: BaseException | None) -> str:
    """The URL of the request that failed (empty when the failure does not carry it)."""
    request = getattr(failure, "request", None)
    return str(getattr(request, "url", "") or "")


def _log_retry(state: RetryCallState) -> None:
    """One line per retry, so a piped log shows what the run is waiting for: a warning, but
    only an info line for a 429 (the API asking us to slow down is routine)."""
    exc = _failure(state)
    level = logging.WARNING
    if exc is None and state.outcome is not None:
        answer = state.outcome.result()
        where, why = shown_url(answer.url), f"HTTP {answer.status_code}"
        level = logging.INFO if answer.status_code == TOO_MANY_REQUESTS else level
    else:
        where = shown_url(failed_url(exc)) or "a request"
        why = "connection refused" if refused(exc) else type(exc).__name__
    wait = state.next_action.sleep if state.next_action is not None else 0.0
    log.log(
        level,
        "storefront: %s: %s (attempt %d); retrying in %.1f s",
        where,
        why,
        state.attempt_number,
        wait,
    )


def _give_up(state: RetryCallState) -> Any:
    """After the last attempt: a deadline failure says how many attempts and how long, a
    refused connection says what to check."""
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    if isinstance(exc, RequestDeadlineError):
        raise RequestDeadlineError(
            f"{exc}; given up after {state.attempt_number} attempts in"
            f" {state.seconds_since_start or 0:.0f} s (budget {BUDGET_SETTING});"
            " nothing loaded, cursor kept: the next run asks again"
        ) from exc.__cause__  # not from exc: the root cause names the innermost of ours
    if refused(exc):
        parts = urlsplit(shown_url(failed_url(exc)))
        attempts = state.attempt_number
        raise ConnectionRefusedByApiError(
            f"the storefront API at {parts.scheme}://{parts.netloc} refused every connection"
            f" for {state.seconds_since_start or 0:.0f} s ({attempts}"
            f" attempt{'s' if attempts != 1 else ''}): is it running there? Nothing loaded,"
            " cursor kept"
        ) from None
    return outcome.result() if outcome is not None else None


def deadline_session(
    read_timeout_seconds: float,
    deadline_seconds: float,
    max_attempts: int,
    budget_seconds: float,
    backoff_factor: float,
    max_retry_delay_seconds: float,
    refused_budget_seconds: float,
) -> Session:
    """A session whose every request has a total deadline and retries within a budget.

    Retries cover 429 and every 5xx answer, connection errors, read timeouts and missed
    deadlines, with exponential backoff (a ``Retry-After`` header sets the wait instead); a
    refused connection only for ``refused_budget_seconds``.
    """
    session = Session(timeout=read_timeout_seconds, raise_for_status=False)
    adapter = WatchedAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    retrying = Retrying(
        wait=wait_exponential_retry_after(multiplier=backoff_factor, max=max_retry_delay_seconds),
        retry=retry_any(
            retry_if_status(DEFAULT_RETRY_STATUS),
            retry_if_exception_type(DEFAULT_RETRY_EXCEPTIONS),
        ),
        stop=stop_any(
            stop_after_attempt(max_attempts),
            stop_after_delay(budget_seconds),
            refused_for(refused_budget_seconds),
        ),
        before_sleep=_log_retry,
        reraise=True,
        retry_error_callback=_give_up,
    )
    session.send = retrying.wraps(  # type: ignore[method-assign]
        with_deadline(session.send, deadline_seconds, read_timeout_seconds)
    )
    return session
