"""An exception chain as one plain sentence with its root cause, for people on call.

dlt wraps a source's failure two or three times (``PipelineStepFailed`` -> resource
extraction error -> the HTTP client's error -> urllib3's -> the socket's), and the outer
messages repeat each other while the cause is at the bottom. ``root_cause`` walks the chain
to the innermost exception and names it briefly: for a network failure, the address that
could not be reached and why (``http://127.0.0.1:9: connection refused``).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

MAX_CHARS = 400
PROJECT_PACKAGE = "ingestion."

NETWORK_REASONS: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (ConnectionResetError, "connection reset by the server"),
    (socket.gaierror, "host name not found"),
    (TimeoutError, "timed out"),
)


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what caused it, down to the innermost (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)  # urllib3 keeps the cause in `.reason`
        if current.__cause__ is not None:
            current = current.__cause__
        elif isinstance(reason, BaseException):
            current = reason
        elif not current.__suppress_context__:
            current = current.__context__
        else:
            current = None


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _address(chain: list[BaseException]) -> str | None:
    """``scheme://host:port`` of the first request found in the chain (requests or httpx)."""
    for exc in chain:
        request = getattr(exc, "request", None)
        url = getattr(request, "url", None)
        if url:
            parts = urlsplit(str(url))
            # host and port only: credentials in a URL must never reach a log or an alert
            port = f":{parts.port}" if parts.port else ""
            return f"{parts.scheme}://{parts.hostname}{port}"
    return None


def _network_reason(chain: list[BaseException]) -> str | None:
    for exc in reversed(chain):
        for kind, reason in NETWORK_REASONS:
            if isinstance(exc, kind):
                return reason
    for exc in reversed(chain):
        if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
            return "timed out"
    return None


def root_cause(exc: BaseException, limit: int = MAX_CHARS) -> str:
    """One line: the innermost cause of ``exc`` (a network failure as address and reason).

    An exception of this project's own in the chain wins: its message is already the
    sentence a person should read (what failed, why, what to do)."""
    chain = list(exception_chain(exc))
    ours = [link for link in chain if type(link).__module__.startswith(PROJECT_PACKAGE)]
    if ours:
        text = " ".join(str(ours[-1]).split()) or type(ours[-1]).__name__
        return text if len(text) <= limit else text[: limit - 3] + "..."
    reason = _network_reason(chain)
    address = _address(chain)
    if reason is not None:
        text = f"{address}: {reason}" if address else reason
    else:
        innermost = chain[-1]
        text = _first_line(innermost)
        if len(chain) > 1 and not text.startswith(type(innermost).__name__):
            text = f"{type(innermost).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 3] + "..."
