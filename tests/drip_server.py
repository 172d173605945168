"""A tiny HTTP proxy on 127.0.0.1 that answers slowly on purpose, for the deadline tests.

It forwards each request to an upstream (the simulated storefront API, or a fixed answer)
and sends the answer back in one of these ways (``mode``), from the ``fault_from``-th
request to a path starting with ``fault_path`` on (the others pass untouched):

- ``pass``: at once;
- ``drip_headers``: every byte, status line and headers included, one ``delay`` apart;
- ``drip_body``: the headers at once, then the body one byte every ``delay``;
- ``silent_after_headers``: the headers at once, then nothing (the connection kept open);
- ``mute``: the connection accepted and the request read, then nothing at all;
- ``slow``: the headers at once, the body in ``chunks`` pieces ``delay`` apart.

Every connection's lifetime is noted (``held``): how long the client kept it open.
"""

from __future__ import annotations

import http.client
import socket
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MODES = ("pass", "drip_headers", "drip_body", "silent_after_headers", "mute", "slow")


@dataclass
class Drip:
    """What the proxy does, changeable while it runs."""

    upstream: str = ""
    """``http://host:port`` of the real API; empty: every answer is ``{"ok": true, ...}``."""
    mode: str = "pass"
    delay: float = 0.1
    chunks: int = 3
    fault_from: int = 1
    fault_path: str = ""
    requests: int = 0
    matched: int = 0
    """Requests to ``fault_path`` so far: ``fault_from`` counts these."""
    held: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def faulted(self, path: str) -> bool:
        with self.lock:
            self.requests += 1
            if not path.startswith(self.fault_path):
                return False
            self.matched += 1
            return self.mode != "pass" and self.matched >= self.fault_from


def read_request(conn: socket.socket) -> tuple[str, dict[str, str]]:
    """The request target and headers of one GET (no body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(4096)
        if not part:
            return "", {}
        data += part
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    target = head[0].split(" ")[1]
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    return target, headers


def upstream_answer(drip: Drip, target: str, headers: dict[str, str]) -> tuple[bytes, bytes]:
    """The status line plus headers, and the body, of the upstream's answer."""
    if not drip.upstream:
        body = b'{"ok": true, "padding": "' + b"x" * 200 + b'"}'
        status, kept = "200 OK", [("Content-Type", "application/json")]
    else:
        parts = urlsplit(drip.upstream)
        upstream = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            forwarded = {k: v for k, v in headers.items() if k.lower() != "host"}
            upstream.request("GET", target, headers=forwarded)
            answer = upstream.getresponse()
            body = answer.read()
            status = f"{answer.status} {answer.reason}"
            dropped = {"content-length", "transfer-encoding", "connection"}
            kept = [(k, v) for k, v in answer.getheaders() if k.lower() not in dropped]
        finally:
            upstream.close()
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in kept)]
    lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
    return "\r\n".join(lines).encode("latin-1"), body


def drip_bytes(conn: socket.socket, data: bytes, delay: float, stop: threading.Event) -> None:
    for index in range(len(data)):
        conn.sendall(data[index : index + 1])
        if stop.wait(delay):
            return


def wait_for_close(conn: socket.socket, stop: threading.Event) -> None:
    """Say nothing until the client closes the connection (or the server stops)."""
    conn.settimeout(0.05)
    while not stop.is_set():
        try:
            if not conn.recv(1):
                return
        except TimeoutError:
            continue


def answer(drip: Drip, conn: socket.socket) -> None:
    target, headers = read_request(conn)
    if not target:
        return
    if not drip.faulted(urlsplit(target).path):
        head, body = upstream_answer(drip, target, headers)
        conn.sendall(head + body)
        return
    if drip.mode == "mute":
        wait_for_close(conn, drip.stop)
        return
    head, body = upstream_answer(drip, target, headers)
    if drip.mode == "drip_headers":
        drip_bytes(conn, head + body, drip.delay, drip.stop)
        return
    conn.sendall(head)
    if drip.mode == "drip_body":
        drip_bytes(conn, body, drip.delay, drip.stop)
    elif drip.mode == "silent_after_headers":
        wait_for_close(conn, drip.stop)
    else:  # slow: the body in a few pieces
        size = max(1, -(-len(body) // drip.chunks))
        for start in range(0, len(body), size):
            conn.sendall(body[start : start + size])
            time.sleep(drip.delay)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        opened = time.monotonic()
        try:
            answer(self.server.drip, self.request)
        except OSError:
            pass  # the client cut the connection: what a deadline is for
        finally:
            self.server.drip.held.append(time.monotonic() - opened)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    drip: Drip


@contextmanager
def drip_server(drip: Drip) -> Iterator[str]:
    """Serve ``drip`` on 127.0.0.1 while the block runs; yields its base URL."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.drip = drip
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        drip.stop.set()
        server.shutdown()
        server.server_close()
