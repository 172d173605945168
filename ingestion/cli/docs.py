"""`shopflow docs`: generate the dbt docs site (descriptions, columns, tests, lineage) and serve
it on 127.0.0.1."""

from __future__ import annotations

import errno
import functools
import logging
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import typer

from ingestion.cli.console import console, fail
from ingestion.cli.progress import working
from ingestion.cli.project_settings import project_settings
from ingestion.database.errors import DatabaseError
from ingestion.database.server_settings import connection_settings
from ingestion.database.service import ensure_ready
from ingestion.settings import REPO_ROOT, ConnectionSettings, Settings
from ingestion.transform.dbt_runner import DbtError, run_dbt, target_dir

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
DOCS_FILES = ("index.html", "manifest.json", "catalog.json")
OUTSIDE = ".not-served"
"""What a path leading out of a mounted folder is answered with: a name that is not there."""


class DocsSiteError(RuntimeError):
    """The docs site cannot be served; the message says why and what to do."""


class _QuietHandler(SimpleHTTPRequestHandler):
    """Serves the target folder, and each mounted folder under its prefix (``/reports/...``);
    requests go to the debug log, not to the terminal."""

    mounts: ClassVar[dict[str, Path]] = {}

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("docs site: " + format, *args)

    def translate_path(self, path: str) -> str:
        route = unquote(urlsplit(path).path)
        for prefix, folder in self.mounts.items():
            if route.startswith(f"/{prefix}/"):
                root = folder.resolve()
                wanted = (root / route[len(prefix) + 2 :]).resolve()
                # nothing outside the mounted folder, whatever the path says (``..``): a 404
                return str(wanted if wanted.is_relative_to(root) else root / OUTSIDE)
        return super().translate_path(path)


def site_mounts(config: Settings) -> dict[str, Path]:
    """What the exposures link to, served beside dbt's site so their links open: the report
    (``reports/index.html#...``) and the project's docs (``docs/exports.md``)."""
    return {"reports": config.report_dir, "docs": REPO_ROOT / "docs"}


def generate_docs(settings: ConnectionSettings, config: Settings) -> Path:
    """Run `dbt docs generate` and return the folder holding the site (dbt's target folder)."""
    run_dbt(["docs", "generate"], settings, config, stream=False)
    return target_dir()


def docs_server(
    folder: Path, port: int, mounts: dict[str, Path] | None = None
) -> ThreadingHTTPServer:
    """An HTTP server for the docs site in ``folder`` on 127.0.0.1 (``port`` 0: a free port),
    with ``mounts`` (URL prefix -> folder) beside it, bound but not yet serving: call
    ``serve_forever()`` (the caller owns its lifetime)."""
    missing = [name for name in DOCS_FILES if not (folder / name).is_file()]
    if missing:
        raise DocsSiteError(
            f"No dbt docs in {folder} ({', '.join(missing)} missing): "
            "run `shopflow docs` without --no-generate, or `dbt docs generate`."
        )
    routed = type("_SiteHandler", (_QuietHandler,), {"mounts": dict(mounts or {})})
    handler = functools.partial(routed, directory=str(folder))
    try:
        return ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DocsSiteError(
                f"Port {port} on {HOST} is taken by another program: pick another with --port."
            ) from exc
        raise DocsSiteError(f"Cannot listen on {HOST}:{port}: {exc.strerror or exc}.") from exc


def docs(
    port: int = typer.Option(8080, "--port", min=0, max=65535, help="Port on 127.0.0.1."),
    serve: bool = typer.Option(
        True,
        "--serve/--no-serve",
        help="Serve the site after generating it (--no-serve: only generate).",
    ),
    generate: bool = typer.Option(
        True,
        "--generate/--no-generate",
        help="Run `dbt docs generate` first (--no-generate: serve the last site).",
    ),
) -> None:
    """Generate the dbt docs (models, columns, tests, lineage from each source to each mart)
    and serve them on http://127.0.0.1:PORT until Ctrl-C."""
    folder = target_dir()
    try:
        if generate:
            settings = connection_settings()
            ensure_ready(settings)
            with working("docs", "dbt docs generate"):
                folder = generate_docs(settings, project_settings())
            console.print(f"Generated the dbt docs in {folder}")
        if not serve:
            return
        server = docs_server(folder, port, site_mounts(project_settings()))
    except (DbtError, DatabaseError, DocsSiteError) as exc:
        fail(str(exc))
    console.print(f"Serving the dbt docs on http://{HOST}:{server.server_port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        console.print("Stopped.")
    finally:
        server.server_close()


if __name__ == "__main__":  # `python -m ingestion.cli.docs`, until it is registered in app.py
    typer.run(docs)
