"""Run the storefront API in the background (for `shopflow run` and tests) or in the foreground.

``running_api`` binds 127.0.0.1 itself (a free port unless one is asked for), serves with
uvicorn in a daemon thread, waits until ``/health`` answers and stops the server on exit.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field

import httpx
import uvicorn

from ingestion.simulators.storefront_api.app import create_app
from ingestion.simulators.storefront_api.config import ApiConfig

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
STARTUP_TIMEOUT_SECONDS = 15.0
SHUTDOWN_TIMEOUT_SECONDS = 10.0
GRACEFUL_SHUTDOWN_SECONDS = 2


@dataclass(frozen=True)
class ApiHandle:
    """Where a running storefront API answers and the key it accepts."""

    base_url: str
    api_key: str = field(repr=False)
    port: int


def uvicorn_config(
    config: ApiConfig, port: int, log_level: str = "warning", access_log: bool = False
) -> uvicorn.Config:
    """A uvicorn configuration for the API on 127.0.0.1 that leaves logging set-up alone."""
    return uvicorn.Config(
        create_app(config),
        host=HOST,
        port=port,
        log_config=None,
        log_level=log_level,
        access_log=access_log,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )


def bind_socket(port: int | None) -> socket.socket:
    """A TCP socket bound to 127.0.0.1 on ``port`` (a free one when None or 0).

    The protocol is named explicitly: asyncio only turns Nagle's algorithm off (TCP_NODELAY)
    on sockets whose ``proto`` is IPPROTO_TCP, and without that every keep-alive answer
    waits ~40 ms for a delayed ACK.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, port or 0))
    except OSError:
        sock.close()
        raise
    return sock


def wait_for_health(base_url: str, thread: threading.Thread, timeout: float) -> None:
    """Poll ``/health`` until it answers 200; fail early if the server thread died."""
    deadline = time.monotonic() + timeout
    last_problem = "no answer yet"
    with httpx.Client(base_url=base_url, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if not thread.is_alive():
                raise RuntimeError(f"the storefront API at {base_url} stopped while starting")
            try:
                response = client.get("/health")
                if response.status_code == 200:
                    return
                last_problem = f"/health answered {response.status_code}"
            except httpx.TransportError as exc:
                last_problem = str(exc) or type(exc).__name__
            time.sleep(0.05)
    raise TimeoutError(f"the storefront API at {base_url} did not start in time: {last_problem}")


@contextmanager
def running_api(config: ApiConfig, port: int | None = None) -> Iterator[ApiHandle]:
    """Serve the API in a background thread while the ``with`` block runs."""
    with closing(bind_socket(port)) as sock:
        actual_port = int(sock.getsockname()[1])
        server = uvicorn.Server(uvicorn_config(config, actual_port))
        thread = threading.Thread(
            target=server.run,
            kwargs={"sockets": [sock]},
            name=f"storefront-api-{actual_port}",
            daemon=True,
        )
        handle = ApiHandle(
            base_url=f"http://{HOST}:{actual_port}", api_key=config.api_key, port=actual_port
        )
        thread.start()
        try:
            wait_for_health(handle.base_url, thread, STARTUP_TIMEOUT_SECONDS)
            logger.info("storefront API running at %s", handle.base_url)
            yield handle
        finally:
            server.should_exit = True
            thread.join(SHUTDOWN_TIMEOUT_SECONDS)
            if thread.is_alive():
                logger.warning("the storefront API at %s did not stop in time", handle.base_url)
            else:
                logger.info("storefront API at %s stopped", handle.base_url)


def serve_forever(config: ApiConfig, port: int, log_level: str = "info") -> None:
    """Serve the API in the foreground on 127.0.0.1 until interrupted (Ctrl-C).

    Raises OSError when the port cannot be bound (e.g. it is in use).
    """
    with closing(bind_socket(port)) as sock:
        server = uvicorn.Server(uvicorn_config(config, port, log_level=log_level, access_log=True))
        server.run(sockets=[sock])
