"""Log lines piped into a file (cron mail, CI): one plain line per record, never padded to the
console's width (rich's handler padded a retry warning to 1,002 characters)."""

from __future__ import annotations

import re
import subprocess
import sys

LOGS = (
    "import logging; from ingestion.cli.console import configure_logging; "
    "configure_logging(False); log = logging.getLogger('ingestion.sources'); "
    "log.warning('storefront: %s: HTTP 503 (attempt 1); retrying in 1.0 s', 'http://x/v1/sales'); "
    "log.info('not shown at the default level')"
)


def test_a_piped_warning_is_one_unpadded_line_with_time_and_level() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOGS],
        capture_output=True,
        text=True,
        check=True,
        env={"COLUMNS": "1000", "PATH": "/usr/bin:/bin"},
    )
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2} WARNING storefront: http://x/v1/sales: "
        r"HTTP 503 \(attempt 1\); retrying in 1\.0 s",
        lines[0],
    ), lines[0]
