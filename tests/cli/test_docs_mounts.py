"""`shopflow docs` serves what the exposures link to beside dbt's site (the report, the
project's docs), and nothing outside those folders, whatever the path says."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingestion.cli.docs import DOCS_FILES, docs_server


@pytest.fixture
def site(tmp_path: Path) -> Iterator[int]:
    target, reports, docs = tmp_path / "target", tmp_path / "reports", tmp_path / "docs"
    for folder in (target, reports, docs):
        folder.mkdir()
    for name in DOCS_FILES:
        (target / name).write_text(f"dbt {name}")
    (reports / "index.html").write_text('<section id="revenue-by-channel">')
    (docs / "exports.md").write_text("# Exports")
    (tmp_path / "secret.txt").write_text("not for the web")
    server = docs_server(target, 0, {"reports": reports, "docs": docs})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)  # sent as written: no client-side normalising of ..
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_report_and_the_docs_are_served_beside_the_site(site: int) -> None:
    assert get(site, "/index.html") == (200, "dbt index.html")
    assert get(site, "/reports/index.html") == (200, '<section id="revenue-by-channel">')
    assert get(site, "/docs/exports.md") == (200, "# Exports")


@pytest.mark.parametrize(
    "path", ["/docs/../secret.txt", "/docs/%2e%2e/secret.txt", "/reports/../../etc/passwd"]
)
def test_nothing_outside_the_mounted_folders_is_served(site: int, path: str) -> None:
    status, body = get(site, path)
    assert status == 404 and "not for the web" not in body
