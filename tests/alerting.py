"""What the alert tests of several folders share: a JSON receiver on 127.0.0.1 that records what
it gets (the ``receiver`` fixture in tests/conftest.py), and a `shopflow run` that fails at its
first stage without a database."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ingestion.cli import run as run_command
from ingestion.stage_runner.stages import Stage


@dataclass
class Receiver:
    """A JSON webhook on 127.0.0.1 that records what it gets and answers with scripted codes."""

    port: int
    answers: list[int]
    received: list[dict[str, Any]] = field(default_factory=list)

    def url(self, schema: str = "json", path: str = "/hook") -> str:
        return f"{schema}://127.0.0.1:{self.port}{path}"

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [request["body"] for request in self.received]


@contextmanager
def json_receiver() -> Iterator[Receiver]:
    """A real http.server in a thread; answers 200 unless `answers` says otherwise."""
    state = Receiver(port=0, answers=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            parts = urlsplit(self.path)
            state.received.append(
                {
                    "path": parts.path,
                    "query": parse_qs(parts.query),
                    "content_type": self.headers.get("Content-Type"),
                    "body": json.loads(self.rfile.read(length)),
                }
            )
            code = state.answers.pop(0) if state.answers else 200
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"boom")

        def log_message(self, format: str, *args: Any) -> None:
            logging.getLogger("test-receiver").debug(format, *args)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def fake_failing_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """`shopflow run` without a database: its ingest stage fails, dbt build is skipped."""

    def broken_ingestion() -> str:
        raise RuntimeError("storefront API answered 503 twice")

    monkeypatch.setattr(run_command, "ready_settings", lambda: None)
    monkeypatch.setattr(run_command, "exclusive_run", lambda settings, command, wait: nullcontext())
    monkeypatch.setattr(
        run_command,
        "pipeline_stages",
        lambda settings, options: [
            Stage("ingest storefront", "products and sales", broken_ingestion),
            Stage("dbt build", "models and tests", lambda: "done"),
        ],
    )
