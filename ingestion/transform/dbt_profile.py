"""The dbt profile: `profiles.example.yml` (committed) rendered into a git-ignored `profiles.yml`.

dbt looks for `profiles.yml` in the working directory first, so after `shopflow db start`
plain `dbt build` works from the repo root. The example reads every setting through
`env_var()`; the rendered copy only adds the local server's generated password as the
default of `SHOPFLOW_PG_PASSWORD`, so no credential is ever committed, and the port the local
server runs on as the default of `SHOPFLOW_PG_PORT`, so dbt in a shell without the variable
reaches the server `shopflow db start` started, whatever its port.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.atomic_write import write_atomically
from ingestion.settings import (
    ENV_BUSINESS_DATE,
    ENV_DATABASE,
    ENV_HOME,
    ENV_HOST,
    ENV_LAKE_URL,
    ENV_OPS_DATABASE,
    ENV_PASSWORD,
    ENV_PGOPTIONS,
    ENV_PORT,
    ENV_USER,
    REPO_ROOT,
    ConnectionSettings,
    Settings,
)

EXAMPLE_PROFILE = REPO_ROOT / "profiles.example.yml"
DBT_SESSION_OPTIONS = "-c work_mem=256MB -c maintenance_work_mem=512MB"
"""Postgres session settings of dbt's connections (libpq's ``PGOPTIONS``): with the default
4 MB of ``work_mem`` the large sorts and hashes of a full build spill to disk, and index
builds want more than the default 64 MB. Options already in ``PGOPTIONS`` come after, so
they win. Figures: docs/benchmarks.md, "Scale"."""
PASSWORD_LOOKUP = f"env_var('{ENV_PASSWORD}')"
PORT_LOOKUP = re.compile(rf"env_var\('{ENV_PORT}', '\d+'\)")


def render_profile(settings: ConnectionSettings) -> str:
    text = EXAMPLE_PROFILE.read_text()
    if PASSWORD_LOOKUP not in text:
        raise ValueError(f"{EXAMPLE_PROFILE} no longer reads the password via {PASSWORD_LOOKUP}")
    if settings.external:
        return text
    if not PORT_LOOKUP.search(text):
        raise ValueError(f"{EXAMPLE_PROFILE} no longer reads the port via {PORT_LOOKUP.pattern}")
    escaped = settings.password.replace("'", "\\'")
    text = PORT_LOOKUP.sub(f"env_var('{ENV_PORT}', '{settings.port}')", text)
    return text.replace(PASSWORD_LOOKUP, f"env_var('{ENV_PASSWORD}', '{escaped}')")


def write_profile(settings: ConnectionSettings, target: Path = REPO_ROOT / "profiles.yml") -> Path:
    """Write the profile whole or not at all: a dbt started by another command meanwhile
    reads the old file or the new one, never a half-written one."""
    text = render_profile(settings).encode()
    write_atomically(target, lambda stream: stream.write(text), mode=0o600)
    return target


DBT_RUN_ID_VARIABLE = "SHOPFLOW_DBT_RUN_ID"
"""Marks a production build's results (macros/audit/store_run_results.sql); empty otherwise.
Set by the project for dbt alone, so not one of the settings a user gives."""


def dbt_environment(settings: ConnectionSettings, config: Settings) -> dict[str, str]:
    """The environment variables the profile and the macros read, and dbt's session settings,
    for a dbt subprocess. The state folder and the lake go as absolute paths, so that the
    `spark` output and the lake's source views (macros/spark/) find them from any working
    directory."""
    return {
        ENV_HOME: str(config.state_dir),
        ENV_LAKE_URL: config.lake_url,
        ENV_PGOPTIONS: f"{DBT_SESSION_OPTIONS} {config.pg_options}".strip(),
        ENV_HOST: settings.host,
        ENV_PORT: str(settings.port),
        ENV_USER: settings.user,
        ENV_PASSWORD: settings.password,
        ENV_DATABASE: settings.database,
        ENV_OPS_DATABASE: settings.ops_database,
        # the business day a run stands for (int_business_clock); unset: the latest activity
        **({ENV_BUSINESS_DATE: config.business_date.isoformat()} if config.business_date else {}),
    }


DECIDED_VARIABLES = (ENV_BUSINESS_DATE, DBT_RUN_ID_VARIABLE)
"""Variables the project sets, or leaves unset, for every dbt command whatever the caller's
environment holds: the business day comes from the settings, and only the production build
marks its results (``production_build``). Unset rather than empty, as in a plain shell: dbt
records whether a model's ``env_var`` fell back to its default, and would parse the model
again for an analyst's plain `dbt show` if ours had set it empty."""
