"""A TCP server on 127.0.0.1 for tests of receivers that misbehave (hang, drip, never answer),
and the misbehaving receivers the alert and deadline tests use."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress


def hold(conn: socket.socket) -> None:
    """Accept, then never answer (the connection stays open until the server stops)."""


@contextmanager
def tcp_server(serve: Callable[[socket.socket], None] = hold, backlog: int = 16) -> Iterator[int]:
    """A server on 127.0.0.1 that hands each connection to ``serve`` in a thread; yields its
    port. On exit every connection is closed, which lets an abandoned client end."""
    server = socket.create_server(("127.0.0.1", 0), backlog=backlog)
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(server.getsockname()[1])
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            with suppress(OSError):
                conn.close()
        server.close()


def smtp_dripping(conn: socket.socket) -> None:
    """A mail server that sends its greeting one byte every half second."""
    with suppress(OSError):
        for byte in b"220 mail.example.test ESMTP ready but slowly\r\n" * 10:
            conn.sendall(bytes([byte]))
            time.sleep(0.5)


@contextmanager
def dripping_webhook(
    interval: float = 0.5, most_bytes: int = 240, arrivals: list[float] | None = None
) -> Iterator[str]:
    """A receiver on 127.0.0.1 that reads the request, then answers one byte every
    ``interval`` seconds and never finishes its headers. Stops itself after ``most_bytes``
    bytes, or when the ``with`` block ends (its connections are closed then). ``arrivals``
    gets the ``time.monotonic()`` of each request read."""

    def drip(conn: socket.socket) -> None:
        conn.recv(65536)
        if arrivals is not None:
            arrivals.append(time.monotonic())
        payload = b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * most_bytes
        for position in range(min(most_bytes, len(payload))):
            time.sleep(interval)
            try:
                conn.sendall(payload[position : position + 1])
            except OSError:
                return  # the client gave up, or the server stopped

    with tcp_server(drip) as port:
        yield f"http://127.0.0.1:{port}/hook"


@contextmanager
def never_accepting() -> Iterator[int]:
    """A listening port whose backlog is full and that never accepts: connects hang."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = int(server.getsockname()[1])
    fillers = []
    for _ in range(4):  # fill the accept queue so that later SYNs are dropped
        filler = socket.socket()
        filler.setblocking(False)
        with suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield port
    finally:
        for filler in fillers:
            filler.close()
        server.close()
