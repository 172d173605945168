"""The docs send readers to the repository, never to a folder of the machine they were written
on (a reader's clone lives anywhere): no absolute path under a home or work folder."""

from __future__ import annotations

import re

from ingestion.settings import REPO_ROOT

MACHINE_PATH = re.compile(r"(?<![\w.~-])/(?:work|home|root|Users)/[\w.-]+")
"""Absolute paths into someone's home or work tree; /tmp and /app (examples, the image) are fine."""


def test_no_doc_names_a_path_of_the_machine_it_was_written_on() -> None:
    found = []
    for doc in [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").rglob("*.md"))]:
        for number, line in enumerate(doc.read_text().splitlines(), start=1):
            where = f"{doc.relative_to(REPO_ROOT)}:{number}"
            found += [f"{where}: {path}" for path in MACHINE_PATH.findall(line)]
    assert found == []
