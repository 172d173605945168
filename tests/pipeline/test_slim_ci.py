"""Slim CI on a copy of the dbt project: one changed staging model is linted, and only it
and its children are built (in ci_* schemas, deferring to the session's production build)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.settings import Settings
from ingestion.transform.slim_ci import (
    CI_SCHEMA_PREFIX,
    SlimCiError,
    SlimCiResult,
    ci_schemas,
    lint,
    production_state_dir,
    run_slim_ci,
)
from tests.pipeline.support import copy_dbt_project
from tests.worlds import BuiltWarehouse

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHANGED_MODEL = "stg_files__marketing_spend"
CHANGED_FILE = f"dbt_project/models/staging/files/{CHANGED_MODEL}.sql"
PRODUCTION_SCHEMAS = ("staging", "intermediate", "marts", "audit", "seeds", "snapshots")


@pytest.fixture
def isolated_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """dbt artifacts of the copy stay in the copy, never in the session's production target."""
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("DBT_LOG_PATH", str(tmp_path / "logs"))
    return tmp_path / "target"


def descendants(manifest: dict, unique_id: str) -> set[str]:
    """The node and everything downstream of it that dbt builds (models, snapshots, seeds)."""
    found, pending = {unique_id}, [unique_id]
    while pending:
        for child in manifest["child_map"].get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return {node for node in found if node.split(".")[0] in ("model", "snapshot", "seed")}


def relation_ids(warehouse: BuiltWarehouse, schemas: tuple[str, ...]) -> dict[str, int]:
    rows = warehouse.query(
        "select n.nspname || '.' || c.relname, c.oid from pg_class as c "
        "join pg_namespace as n on n.oid = c.relnamespace "
        f"where c.relkind in ('r', 'v') and n.nspname in {schemas!r}"
    )
    return dict(rows)


def test_slim_ci_builds_only_the_changed_model_and_its_children(
    built_warehouse: BuiltWarehouse, isolated_target: Path, tmp_path: Path
) -> None:
    project = copy_dbt_project(tmp_path / "project")
    changed = project / CHANGED_FILE
    changed.write_text(
        changed.read_text().replace(
            "        clicks,\n        {{ validity_flag",
            "        clicks,\n        impressions - clicks as non_clicking_impressions,\n"
            "        {{ validity_flag",
        )
    )
    state = production_state_dir(built_warehouse.settings)
    production_manifest = json.loads((state / "manifest.json").read_text())
    expected = descendants(production_manifest, f"model.shopflow.{CHANGED_MODEL}")
    assert len(expected) >= 3, expected  # the model, its intermediate, a mart and the audit
    production_before = relation_ids(built_warehouse, PRODUCTION_SCHEMAS)

    result = run_slim_ci(
        built_warehouse.settings,
        Settings.from_environment(),
        project_dir=project,
        state=state,
        base="HEAD",
    )

    assert set(result.built) == expected
    assert result.linted == [CHANGED_FILE]
    assert any(test.startswith("test.shopflow.") for test in result.tested)
    assert relation_ids(built_warehouse, PRODUCTION_SCHEMAS) == production_before
    built_in_ci = built_warehouse.query(
        "select table_schema, table_name from information_schema.columns "
        f"where table_name = '{CHANGED_MODEL}' and column_name = 'non_clicking_impressions'"
    )
    assert built_in_ci == [("ci_staging", CHANGED_MODEL)]
    ci_results = built_warehouse.scalar(
        f"select count(*) from ci_audit.dbt_results where node_name = '{CHANGED_MODEL}'"
    )
    assert ci_results == 1, "the CI build's results go to ci_audit, not production's audit"
    assert not built_warehouse.query(
        "select 1 from audit.dbt_results where command = 'build' and run_started_at > "
        "(select max(run_started_at) from ci_audit.dbt_results) - interval '1 second'"
    )


def test_a_lint_failure_names_file_line_column_and_rule(
    built_warehouse: BuiltWarehouse, isolated_target: Path, tmp_path: Path
) -> None:
    project = copy_dbt_project(tmp_path / "project")
    changed = project / CHANGED_FILE
    changed.write_text(changed.read_text().replace("select", "SELECT", 1))

    with pytest.raises(SlimCiError) as failure:
        lint(project, [CHANGED_FILE], built_warehouse.settings, Settings.from_environment())

    lines = str(failure.value).splitlines()
    assert any(line.startswith(f"{CHANGED_FILE}:") and ": CP01 " in line for line in lines)
    assert lines[-1].endswith(f"sqlfluff fix {CHANGED_FILE}")


def test_clean_drops_the_ci_schemas_and_nothing_else(
    built_warehouse: BuiltWarehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    built_warehouse.execute(f"create schema if not exists {CI_SCHEMA_PREFIX}_scratch")
    production_before = relation_ids(built_warehouse, PRODUCTION_SCHEMAS)
    monkeypatch.setattr(
        "ingestion.cli.ci_slim.run_slim_ci",
        lambda *args, **kwargs: SlimCiResult(built=[], tested=[], linted=[]),
    )

    run = CliRunner().invoke(app, ["ci-slim"])
    assert run.exit_code == 0, run.output
    assert f"{CI_SCHEMA_PREFIX}_scratch" in run.output
    assert "shopflow ci-slim --clean" in run.output

    clean = CliRunner().invoke(app, ["ci-slim", "--clean"])
    assert clean.exit_code == 0, clean.output
    assert f"{CI_SCHEMA_PREFIX}_scratch" in clean.output
    assert ci_schemas(built_warehouse.settings) == []
    assert relation_ids(built_warehouse, PRODUCTION_SCHEMAS) == production_before
