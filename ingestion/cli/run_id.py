"""The run id: minted here, once per command, or given with ``--run-id`` (an orchestrator's
tasks all give the same one, so one scheduled run is one run in ``audit.pipeline_runs``, in
the alert and in `shopflow status`). Everything below the CLI is handed the id; nothing there
makes one up."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import typer

MAX_LENGTH = 100
SAFE_RUN_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._-]{{0,{MAX_LENGTH - 1}}}")
"""Letters, digits, ``.``, ``_`` and ``-``, not first: the id names the lake's staged files and
is a label in SQL rows, dbt vars and alerts, so it holds nothing a path or a quote reads."""


def new_run_id() -> str:
    """A run id that sorts by time and reads as one: ``20261202T101500Z-3f9a1c``."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def parse_run_id(text: str) -> str:
    """``--run-id``: the id as given when it is safe, else one sentence saying what to give."""
    if SAFE_RUN_ID.fullmatch(text):
        return text
    if not text:
        problem = "is empty"
    elif len(text) > MAX_LENGTH:
        problem = f"is {len(text)} characters long, more than {MAX_LENGTH}"
    else:
        unsafe = "".join(dict.fromkeys(c for c in text if not re.fullmatch(r"[A-Za-z0-9._-]", c)))
        problem = (
            f"contains {unsafe!r}, unsafe in a file name or an SQL label"
            if unsafe
            else "starts with a character other than a letter or a digit"
        )
    raise typer.BadParameter(
        f"{text!r} {problem}: give letters, digits, '.', '_' and '-' (starting with a letter "
        "or a digit), e.g. an orchestrator's run id with ':' and '+' replaced by '-'."
    )


RUN_ID = typer.Option(
    None,
    "--run-id",
    parser=parse_run_id,
    help="Record this command under this run id (every task of one scheduled run gives the "
    "same one); default: a new id such as 20261202T101500Z-3f9a1c.",
)


def run_id_or_new(given: str | None) -> str:
    """The id given with ``--run-id``, else a new one: the one place a run id is made."""
    return given if given is not None else new_run_id()
