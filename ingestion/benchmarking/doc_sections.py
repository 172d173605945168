"""Sections of docs/benchmarks.md: each benchmark owns one and replaces only its own."""

from __future__ import annotations

from pathlib import Path

from ingestion.settings import REPO_ROOT

BENCHMARKS_DOC = REPO_ROOT / "docs" / "benchmarks.md"


def write_section(section: str, doc: Path = BENCHMARKS_DOC) -> None:
    """Replace the section titled by ``section``'s first line (``## ...``), or append it.

    Other sections are left alone; the replaced one ends where the next ``## `` heading starts.
    """
    title = section.splitlines()[0]
    if not title.startswith("## "):
        raise ValueError(f"a section starts with its '## ' heading, not {title!r}")
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(title + "\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(title))
        rest = "" if end == -1 else "\n" + text[end + 1 :]
        text = text[:start] + section.rstrip("\n") + "\n" + rest
    doc.write_text(text)
