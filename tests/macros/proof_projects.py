"""Small dbt projects that tests write to a temporary folder to prove the repo's macros."""

from __future__ import annotations


def proof_project_yml(name: str, settings: str) -> str:
    """A `dbt_project.yml` for a proof project named ``name``: the repo's macros copied under
    `macros/`, the shopflow profile, the hooks that store results in `audit.dbt_results`,
    then ``settings`` (YAML for `vars:`, `seeds:`, `models:` ...)."""
    return (
        f"name: {name}\n"
        'version: "1.0.0"\n'
        "config-version: 2\n"
        "profile: shopflow\n"
        'macro-paths: ["macros"]\n'
        'seed-paths: ["seeds"]\n'
        'model-paths: ["models"]\n'
        "target-path: target\n"
        "on-run-start:\n"
        '  - "{% do create_dbt_results_table() %}"\n'
        "on-run-end:\n"
        '  - "{{ store_run_results(results) }}"\n'
        f"{settings}"
        "flags:\n"
        "  send_anonymous_usage_stats: false\n"
    )
