"""A TCP server on 127.0.0.1 for tests of receivers that misbehave (hang, drip, never answer)."""

from __future__ import annotations

import socket
import threading
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
