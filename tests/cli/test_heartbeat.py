"""Piped into a file, a long stage prints a line every period (30 s) while it works, and
nothing once it is done."""

from __future__ import annotations

import re
import time

import pytest

from ingestion.cli import progress
from ingestion.cli.run import with_progress
from ingestion.stage_runner.stages import Stage


def test_a_piped_stage_says_it_is_alive_every_period(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(progress, "HEARTBEAT_SECONDS", 0.1)

    def slow() -> str:
        time.sleep(0.45)
        return "target/index.html"

    assert with_progress(Stage("docs", "dbt docs generate", slow)).action() == "target/index.html"
    time.sleep(0.25)  # after the stage: no more beats
    lines = capsys.readouterr().out.splitlines()
    assert 3 <= len(lines) <= 5, lines
    assert all(re.fullmatch(r"docs: still working after \d+ s", line) for line in lines), lines
