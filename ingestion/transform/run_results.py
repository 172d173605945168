"""What a dbt invocation did, read from its `run_results.json` (never from its log output).

`shopflow run` records the invocation id beside the run's audit row, reports a failed build
as its failing nodes and their messages, and `shopflow retry` resumes it with `dbt retry`.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

FAILED_STATUSES = ("error", "fail", "runtime error")
PROBLEM_STATUSES = (*FAILED_STATUSES, "warn")
MAX_NAMED_FAILURES = 5
MAX_MESSAGE_CHARS = 300
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
DBT_MESSAGE_PREFIX = re.compile(r"^(Database|Compilation|Runtime) Error in \S+ \S+( \([^)]*\))?\s*")
"""dbt's "Database Error in model x (models/x.sql)": the node is named already."""
DBT_MESSAGE_TRAILER = re.compile(r"\s+(LINE \d+:|compiled code at )")
"""Where Postgres' quote of the statement and dbt's pointer to the compiled file begin."""


def plain(text: str) -> str:
    """The text without terminal colour codes."""
    return ANSI_ESCAPE.sub("", text)


@dataclass(frozen=True)
class NodeResult:
    """One node's outcome in an invocation."""

    unique_id: str
    status: str
    message: str
    failures: int | None

    @property
    def name(self) -> str:
        """``model mart_daily_sales``, ``test not_null_fct_orders_order_id``, ..."""
        parts = self.unique_id.split(".")
        return f"{parts[0]} {parts[2]}" if len(parts) > 2 else self.unique_id

    @property
    def short_message(self) -> str:
        """The message on one line, without dbt's leading boilerplate, cut to a sentence."""
        text = " ".join(plain(self.message).split())
        text = DBT_MESSAGE_PREFIX.sub("", text)
        text = DBT_MESSAGE_TRAILER.split(text, maxsplit=1)[0]
        return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 3] + "..."


@dataclass(frozen=True)
class RunResults:
    """An invocation's id, when it started and its node results."""

    invocation_id: str
    started_at: str
    nodes: list[NodeResult]

    def counts(self) -> dict[str, int]:
        """Node statuses counted, e.g. ``{"pass": 300, "success": 60, "error": 1}``."""
        return dict(sorted(Counter(node.status for node in self.nodes).items()))

    @property
    def failed(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.status in FAILED_STATUSES]

    @property
    def skipped(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.status == "skipped"]

    def summary(self) -> str:
        """``364 nodes: pass 299, success 65`` (the run summary's detail of a good build)."""
        counts = ", ".join(f"{status} {count}" for status, count in self.counts().items())
        return f"{len(self.nodes)} nodes: {counts}" if self.nodes else "no nodes selected"

    def failure_sentence(self) -> str:
        """The failing nodes and their messages in one sentence (``''`` when none failed)."""
        failed = self.failed
        if not failed:
            return ""
        named = "; ".join(
            f"{node.name}: {node.short_message}" for node in failed[:MAX_NAMED_FAILURES]
        )
        more = len(failed) - MAX_NAMED_FAILURES
        named += f"; and {more} more" if more > 0 else ""
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        return f"{len(failed)} of {len(self.nodes)} dbt nodes failed{skipped}: {named}"


def read_run_results(target: Path) -> RunResults | None:
    """The run results in dbt's target folder; None when missing or unreadable."""
    return read_run_results_file(target / "run_results.json")


def read_run_results_file(path: Path) -> RunResults | None:
    """A run_results.json file; None when missing or unreadable."""
    try:
        document = json.loads(path.read_text())
        metadata = document.get("metadata", {})
        nodes = [
            NodeResult(
                unique_id=str(result["unique_id"]),
                status=str(result["status"]),
                message=str(result.get("message") or ""),
                failures=result.get("failures"),
            )
            for result in document["results"]
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.debug("no readable run results in %s: %s", path, exc)
        return None
    return RunResults(
        invocation_id=str(metadata.get("invocation_id", "")),
        started_at=str(metadata.get("invocation_started_at") or metadata.get("generated_at", "")),
        nodes=nodes,
    )


def error_lines(output: str) -> str:
    """What dbt printed about an error that stopped it before any node ran (a parse or
    connection error): the lines from the first error line on, plain, joined into one."""
    lines = [plain(line).strip() for line in output.splitlines()]
    # dbt prefixes each line with a time stamp "12:58:40  "
    lines = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in lines if line.strip()]
    start = next(
        (i for i, line in enumerate(lines) if "error" in line.lower() and "ERROR=0" not in line),
        None,
    )
    if start is None:
        return lines[-1] if lines else "no output"
    text = " ".join(lines[start : start + 6])
    return text if len(text) <= MAX_MESSAGE_CHARS * 2 else text[: MAX_MESSAGE_CHARS * 2 - 3] + "..."
