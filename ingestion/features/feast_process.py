"""Running the feature store's operations (features/feast_tasks.py) in Feast's own virtualenv.

Feast 0.67 needs pandas 2.x and the project runs pandas 3.x, so Feast cannot be imported here:
`make feast` builds `.venv-feast` from features/requirements.txt, and every operation runs there
as a child process. The child gets the warehouse connection and the registry's path through
environment variables (features/feature_repo/feature_store.yaml reads them), computed from the
settings the command resolved, and answers with one JSON object on its last line of output.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

from ingestion.interrupts import child_process_options, stop_process_group
from ingestion.settings import REPO_ROOT, ConnectionSettings, Settings

log = logging.getLogger(__name__)

FEAST_VENV = REPO_ROOT / ".venv-feast"
TASKS_SCRIPT = REPO_ROOT / "features" / "feast_tasks.py"
REGISTRY_FILE = "registry.db"


class FeatureStoreError(RuntimeError):
    """A feature store operation failed; the message says why and what to do."""


def feast_python() -> Path:
    """The Feast virtualenv's interpreter; FeatureStoreError when it is not built."""
    python = FEAST_VENV / "bin" / "python"
    if not python.exists():
        raise FeatureStoreError(
            f"Feast's virtualenv {FEAST_VENV} is missing: run `make feast` to build it "
            "(Feast needs pandas 2, the project pandas 3; docs/features.md)."
        )
    return python


def registry_path(config: Settings, settings: ConnectionSettings) -> Path:
    """The Feast registry of one warehouse: local state under the state folder, one per
    database, as dlt's pipeline folders are (a test's throwaway warehouse has its own)."""
    return config.state_dir / "feast" / settings.database / REGISTRY_FILE


def feast_environment(config: Settings, settings: ConnectionSettings) -> dict[str, str]:
    """The variables feature_store.yaml reads: the warehouse (offline and online store), the
    registry; timestamps in UTC, as the feature tables hold them."""
    return {
        "SHOPFLOW_FEAST_PG_HOST": settings.host,
        "SHOPFLOW_FEAST_PG_PORT": str(settings.port),
        "SHOPFLOW_FEAST_PG_USER": settings.user,
        "SHOPFLOW_FEAST_PG_PASSWORD": settings.password,
        "SHOPFLOW_FEAST_PG_DATABASE": settings.database,
        # the local server listens on loopback without TLS; an external one negotiates it
        "SHOPFLOW_FEAST_PG_SSLMODE": "prefer" if settings.external else "disable",
        "SHOPFLOW_FEAST_REGISTRY": str(registry_path(config, settings)),
        "PGTZ": "UTC",
    }


def start_feast_task(
    args: list[str], config: Settings, settings: ConnectionSettings, capture: bool = True
) -> subprocess.Popen[str]:
    """Start `feast_tasks.py <args>` in the Feast virtualenv (a child that never outlives us:
    stop it with ``stop_process_group``); ``capture`` pipes its output, else it is ours."""
    registry_path(config, settings).parent.mkdir(parents=True, exist_ok=True)
    command = [str(feast_python()), str(TASKS_SCRIPT), *args]
    log.info("running %s", " ".join(command))
    output = subprocess.PIPE if capture else None
    return subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env={**os.environ, **feast_environment(config, settings)},
        stdout=output,
        stderr=output,
        text=True,
        **child_process_options(),
    )


def run_feast_task(
    args: list[str], config: Settings, settings: ConnectionSettings, stream: bool = False
) -> dict[str, Any]:
    """Run `feast_tasks.py <args>` in the Feast virtualenv and return its JSON answer.

    ``stream`` passes the child's output through (`serve`, which runs until interrupted);
    otherwise its output goes to the debug log and, on failure, its last line of errors into
    the error. The child's process group is stopped on any way out."""
    process = start_feast_task(args, config, settings, capture=not stream)
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        log.warning("stopping the feature store task (pid %s) before leaving", process.pid)
        stop_process_group(process)
        raise
    if stderr:
        log.debug("feast_tasks %s stderr:\n%s", args[0], stderr)
    if process.returncode != 0:
        cause = (stderr or "").strip().splitlines()[-1:] or [f"exit code {process.returncode}"]
        raise FeatureStoreError(f"feast {args[0]} failed: {cause[0]}")
    lines = (stdout or "").strip().splitlines()
    return json.loads(lines[-1]) if lines else {}
