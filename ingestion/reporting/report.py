"""Write the report: read the warehouse, draw every section, replace ``index.html`` atomically."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from pathlib import Path

from ingestion.atomic_write import write_atomically
from ingestion.reporting.page import render_page
from ingestion.reporting.queries import DBT_RESULTS_TABLE, read_report_data, schema_name
from ingestion.reporting.sections import build_sections
from ingestion.settings import ENV_REPORT_DIR, REPO_ROOT, ConnectionSettings
from ingestion.transform.stale_models import describe_stale, latest_stale

log = logging.getLogger(__name__)

REPORT_FILE = "index.html"
FOLDER_ADVICE = f"choose a folder you can write to with --out or {ENV_REPORT_DIR}"


def render_report(
    settings: ConnectionSettings, schema_prefix: str = "", generated_at: datetime | None = None
) -> str:
    """The report's HTML for the warehouse ``settings`` points at."""
    data = read_report_data(settings, schema_prefix)
    results_table = f"{schema_name('audit', schema_prefix)}.{DBT_RESULTS_TABLE} (command build)"
    sections = build_sections(data, results_table)
    stale = latest_stale(settings)
    return render_page(
        sections,
        generated_at or datetime.now(UTC),
        data.latest_business_date,
        settings.database,
        stale_notice=describe_stale(stale) if stale else "",
    )


def write_report(
    settings: ConnectionSettings,
    out_dir: Path,
    *,
    schema_prefix: str = "",
    generated_at: datetime | None = None,
) -> Path:
    """Write ``<out_dir>/index.html`` from the warehouse and return its path.

    Raises ``WarehouseNotBuiltError`` (a sentence saying what to run) when the marts or the
    audit tables do not exist yet, ``DatabaseError`` when the server cannot be reached and
    ``UnwritableFolderError`` (the folder, why, what to do) when the file cannot be written.
    """
    path = out_dir.resolve() / REPORT_FILE
    page = render_report(settings, schema_prefix, generated_at).encode("utf-8")
    write_atomically(path, lambda stream: stream.write(page), FOLDER_ADVICE)
    log.info("report written to %s", path)
    return path


def summary_line(path: Path) -> str:
    """One line saying what was written: where, how many charts, which business date."""
    content = path.read_text(encoding="utf-8")
    sections = len(re.findall(r"<section id=", content))
    latest = re.search(r'id="latest-business-date" datetime="([^"]+)"', content)
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    return (
        f"{shown}: {sections} charts, {len(content.encode()) / 1024:.0f} KiB, "
        f"latest business date {latest.group(1) if latest else 'none'}"
    )
