"""The local server's passwords: generated once, kept in the git-ignored credentials file of
the state folder (``<SHOPFLOW_HOME>/credentials.json``), never shown.

An external server's password is the operator's (``SHOPFLOW_PG_PASSWORD``): nothing here
applies to it.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path

from ingestion.settings import state_dir

PIPELINE_PASSWORD_KEY = "password"


def credentials_file() -> Path:
    return state_dir() / "credentials.json"


def local_secret(key: str) -> str:
    """One of the local server's passwords (``password``: the pipeline's; the analyst's and the
    administrator's beside it): generated once, kept in the git-ignored credentials file.

    Read and written under a lock: two commands starting at once must not each generate, and
    the loser's password would lock the server's administrator out for good.
    """
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stored = json.loads(path.read_text()) if path.exists() else {}
        if key not in stored:
            stored[key] = secrets.token_urlsafe(24)
            partial = path.with_name(f".{path.name}.part")
            partial.touch(mode=0o600)
            partial.chmod(0o600)
            partial.write_text(json.dumps(stored))
            os.replace(partial, path)
        return str(stored[key])


def local_password() -> str:
    """The local pipeline role's password (``local_secret``)."""
    return local_secret(PIPELINE_PASSWORD_KEY)
