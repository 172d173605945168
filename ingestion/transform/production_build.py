"""The production dbt build of `shopflow run`, its resumption with `dbt retry`, and what both
leave for `shopflow status` and slim CI.

Under ``.shopflow/dbt-state/<database>/`` (git-ignored) the production build keeps:
- ``manifest.json``: the manifest of the last successful build (slim CI defers to it);
- ``last-build/run_results.json``: the results of the last production build or retry, which
  `shopflow retry` hands to ``dbt retry --state`` so that only the failed and skipped nodes
  run again, whatever ad-hoc dbt command ran in between;
- ``last-build/run_id``: the run id of that build, which a retry marks its results with too;
- ``sources.json``: dbt's source freshness, measured just after each build.
Ad-hoc dbt commands write to ``target/`` only, so they never replace any of these.

The run id reaches dbt in an environment variable (``SHOPFLOW_DBT_RUN_ID``, read by the
on-run-end hook at run time), not as a var: dbt parses the whole project again whenever its
vars differ from the last parse's, so a var whose value changes every run would make every
build, and every plain `dbt show` after one, parse from scratch.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from ingestion.settings import REPO_ROOT, ConnectionSettings, Settings
from ingestion.transform.dbt_profile import DBT_RUN_ID_VARIABLE
from ingestion.transform.dbt_runner import DbtError, fresh_run_results, run_dbt, target_dir
from ingestion.transform.run_results import RunResults, read_run_results
from ingestion.transform.slim_ci import production_state_dir, publish_production_state

log = logging.getLogger(__name__)

WHOLE_HISTORY_TESTS = "tag:whole_history"
"""Tests that recompute a large table's whole history (tests/dbt): left out of a run's build,
run by plain `dbt build`, tests/pipeline and `dbt test --select tag:whole_history`."""

LAST_BUILD = "last-build"
RUN_ID_FILE = "run_id"
FRESHNESS_FILE = "sources.json"


class NothingToRetryError(RuntimeError):
    """There are no results of a failed production build to resume; the message says why."""


def last_build_dir(settings: ConnectionSettings) -> Path:
    """Where the run results of the last production build (or retry) are kept."""
    return production_state_dir(settings) / LAST_BUILD


def freshness_file(settings: ConnectionSettings) -> Path:
    """dbt's ``sources.json`` of the last production run."""
    return production_state_dir(settings) / FRESHNESS_FILE


def measure_freshness(
    settings: ConnectionSettings, config: Settings, project_dir: Path = REPO_ROOT
) -> None:
    """``dbt source freshness`` into the production state. A stale source is reported by
    `shopflow status`, not a reason to stop the build, so dbt's non-zero exit is only logged."""
    output = freshness_file(settings)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        run_dbt(
            ["source", "freshness", "--output", str(output)],
            settings,
            config,
            project_dir=project_dir,
            stream=False,
        )
    except DbtError as exc:
        log.warning("source freshness: %s", exc)


def _keep_results(
    settings: ConnectionSettings, project_dir: Path, since: float
) -> RunResults | None:
    """Copy the invocation's run results (if it wrote any after ``since``) into the production
    state and read them."""
    if fresh_run_results(target_dir(project_dir), since) is None:
        return None
    destination = last_build_dir(settings)
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(target_dir(project_dir) / "run_results.json", destination / "run_results.json")
    return read_run_results(destination)


def _production_invocation(
    args: list[str],
    settings: ConnectionSettings,
    config: Settings,
    project_dir: Path,
    run_id: str | None,
) -> RunResults:
    started = time.time()
    marked = {DBT_RUN_ID_VARIABLE: run_id} if run_id else {}
    try:
        run_dbt(args, settings, config, project_dir=project_dir, extra_env=marked)
    finally:
        kept = _keep_results(settings, project_dir, started)
        if kept is not None and run_id:
            last_build_dir(settings).mkdir(parents=True, exist_ok=True)
            (last_build_dir(settings) / RUN_ID_FILE).write_text(run_id)
    if kept is None:
        raise DbtError(f"dbt {args[0]} wrote no run results in {target_dir(project_dir)}")
    publish_production_state(settings, project_dir)
    return kept


def production_build(
    settings: ConnectionSettings,
    config: Settings,
    run_id: str,
    full_refresh: bool = False,
    project_dir: Path = REPO_ROOT,
    exclude: Sequence[str] = (),
) -> RunResults:
    """``dbt build`` (whole-history tests excluded, and the ``exclude`` selectors: what
    depends on raw tables that failed to load), then measure source freshness. On
    success the manifest becomes the production state; either way the results are kept for
    `shopflow status` and `shopflow retry`. Raises DbtError (with the invocation id) on
    failure."""
    # no --vars (see the module): the run id marks this invocation's rows in audit.dbt_results
    # as production's through the environment, as the business day reaches int_business_clock
    args = ["build", "--exclude", WHOLE_HISTORY_TESTS, *exclude]
    args += ["--full-refresh"] if full_refresh else []
    try:
        return _production_invocation(args, settings, config, project_dir, run_id)
    finally:
        # after the build (passed or not), so that the audit tables it writes count too
        measure_freshness(settings, config, project_dir)


def retry_production_build(
    settings: ConnectionSettings, config: Settings, project_dir: Path = REPO_ROOT
) -> RunResults:
    """``dbt retry`` of the last production build: only its failed and skipped nodes run,
    with the build's own arguments. Raises NothingToRetryError when the last production build
    left nothing to retry, DbtError when the retry fails (its results then replace the
    build's, so a second retry resumes from there)."""
    kept = read_run_results(last_build_dir(settings))
    if kept is None:
        raise NothingToRetryError(
            f"No production build results in {last_build_dir(settings)}: run `shopflow run` "
            "(a retry resumes a failed production build)."
        )
    if not kept.failed and not kept.skipped:
        raise NothingToRetryError(
            f"The last production build (dbt invocation {kept.invocation_id}) left no failed "
            "or skipped node: there is nothing to retry."
        )
    resumed = last_build_dir(settings) / RUN_ID_FILE
    run_id = resumed.read_text().strip() if resumed.exists() else None
    return _production_invocation(
        ["retry", "--state", str(last_build_dir(settings))], settings, config, project_dir, run_id
    )
