"""The project's structural rules, checked offline on dbt's `target/manifest.json`.

This does dbt-project-evaluator's job without installing it (hub packages cannot be installed
here): every model is described and has a primary-key test, is named after its layer and sits
in the right place in the DAG (only staging reads sources, staging reads nothing else, nothing
upstream reads a mart), marts and feature tables enforce a contract, sources declare freshness
and columns are documented. Each violation names the resource, the rule and how to fix it.

Audit models (`models/audit/`, prefix `audit_`) watch the pipeline itself: they may read the
`audit` source (dbt's run results, the pipeline's run log) and any mart, because they sit at the
end of the DAG and nothing business-facing depends on them.

A model or source table can opt out of a rule, in its YAML where a reviewer sees it:
`config: {meta: {skip_project_rules: ["source-freshness"]}}` (rule ids in ``RULES``), e.g. a
dlt child table that has no load column of its own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Manifest = Mapping[str, Any]
Node = Mapping[str, Any]

RULES: dict[str, str] = {
    "model-description": "every model has a description",
    "model-primary-key": "every model has a primary-key test",
    "model-naming": "a model's name starts with its layer's prefix",
    "model-layer": "every model lives in a layer folder",
    "source-outside-staging": "only staging models call source()",
    "staging-refs-model": "staging models ref no other model",
    "mart-referenced-upstream": "nothing upstream of the marts refs a mart",
    "mart-contract": "every mart and feature table enforces a contract",
    "column-description": "every model documents its columns",
    "source-freshness": "every source table declares freshness",
    "staging-load-audited": "every staging model of loaded rows is counted by the load audit",
    "semantic-description": "every metric, semantic model and saved query has a description",
}

LAYER_PREFIXES: dict[str, tuple[str, ...]] = {
    "staging": ("stg_",),
    "intermediate": ("int_",),
    "marts": ("dim_", "fct_", "mart_"),
    "audit": ("audit_",),
    "features": ("feat_",),
}
STAGING = "staging"
MARTS = "marts"
AUDIT = "audit"
FEATURES = "features"
AUDIT_SOURCE = "audit"
SKIP_META_KEY = "skip_project_rules"
PRIMARY_KEY_COMBINATION_TESTS = ("unique_combination_of_columns",)
LOAD_AUDIT_MODEL = "audit_load_quality"
LOADED_ROW_COLUMNS = ("is_valid", "loaded_at")
"""A staging model with both columns stages loaded rows that `audit_load_quality` must count:
dbt must know a model's refs when it parses it, so that model lists its staging models by
hand, and this rule catches one missing from the list."""


@dataclass(frozen=True)
class Violation:
    """One resource breaking one rule, with what to do about it."""

    rule: str
    resource: str
    path: str
    problem: str
    fix: str


def load_manifest(path: Path) -> dict[str, Any]:
    """Read a manifest.json written by `dbt parse` (or any dbt command)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: run `dbt parse` first")
    return json.loads(path.read_text())


def layer_of(node: Node) -> str | None:
    """The top folder under the model path (staging, intermediate, marts, audit, features),
    or None."""
    fqn = node.get("fqn") or []
    return str(fqn[1]) if len(fqn) > 2 else None


def _column_key(name: str | None) -> str:
    return (name or "").strip().strip('"').lower()


def _skipped_rules(node: Node) -> set[str]:
    meta = (node.get("config") or {}).get("meta") or node.get("meta") or {}
    return set(meta.get(SKIP_META_KEY) or [])


def _tests_by_model(manifest: Manifest) -> dict[str, list[Node]]:
    tests: dict[str, list[Node]] = {}
    for node in manifest.get("nodes", {}).values():
        if node.get("resource_type") != "test" or not node.get("test_metadata"):
            continue
        attached = node.get("attached_node")
        if attached:
            tests.setdefault(attached, []).append(node)
    return tests


def has_primary_key_test(tests: Iterable[Node]) -> bool:
    """True with unique + not_null on one column, or a unique-combination test."""
    tested: dict[str, set[str]] = {}
    for test in tests:
        metadata = test["test_metadata"]
        name = metadata.get("name")
        if name in PRIMARY_KEY_COMBINATION_TESTS:
            return True
        column = test.get("column_name") or (metadata.get("kwargs") or {}).get("column_name")
        if name in ("unique", "not_null") and column:
            tested.setdefault(_column_key(column), set()).add(name)
    return any(names >= {"unique", "not_null"} for names in tested.values())


def _model_violations(
    node: Node, tests: list[Node], nodes: Mapping[str, Node], sources: Mapping[str, Node]
) -> list[Violation]:
    name = node["name"]
    resource = f"model {name}"
    path = node.get("original_file_path", "")
    yml = (node.get("patch_path") or "").split("://", 1)[-1] or (
        str(Path(path).with_suffix(".yml")) if path else "the model's YAML"
    )
    layer = layer_of(node)
    found: list[Violation] = []

    def add(rule: str, problem: str, fix: str) -> None:
        found.append(Violation(rule, resource, path, problem, fix))

    if not (node.get("description") or "").strip():
        add(
            "model-description",
            "has no description",
            f"add a description to {yml} that starts with the grain ('One row per ...').",
        )
    if not has_primary_key_test(tests):
        add(
            "model-primary-key",
            "has no primary-key test",
            f"in {yml}, give the key column both `unique` and `not_null` data_tests, or add "
            "`unique_combination_of_columns` (arguments: combination_of_columns) for a "
            "compound key.",
        )
    if layer not in LAYER_PREFIXES:
        add(
            "model-layer",
            f"lives outside the layer folders ({', '.join(LAYER_PREFIXES)})",
            "move it into models/staging/<source>/, models/intermediate/<domain>/, "
            "models/marts/<domain>/, models/audit/ or models/features/.",
        )
    elif not name.startswith(LAYER_PREFIXES[layer]):
        prefixes = " or ".join(f"`{prefix}`" for prefix in LAYER_PREFIXES[layer])
        add(
            "model-naming",
            f"is in {layer}/ but its name does not start with {prefixes}",
            f"rename it with {prefixes} (file and YAML), or move it to the folder of its layer.",
        )

    upstream_sources = [
        sources[unique_id]
        for unique_id in node.get("depends_on", {}).get("nodes", [])
        if unique_id in sources
    ]
    upstream_models = [
        nodes[unique_id]
        for unique_id in node.get("depends_on", {}).get("nodes", [])
        if unique_id.startswith("model.") and unique_id in nodes
    ]
    if layer != STAGING:
        foreign = [
            f"{source['source_name']}.{source['name']}"
            for source in upstream_sources
            if not (layer == AUDIT and source.get("source_name") == AUDIT_SOURCE)
        ]
        if foreign:
            add(
                "source-outside-staging",
                f"calls source() ({', '.join(sorted(foreign))}) outside staging",
                "read the staging model of that source with ref('stg_<source>__<entities>') "
                "instead; add the staging model if it does not exist.",
            )
    if layer == STAGING and upstream_models:
        names = ", ".join(sorted(model["name"] for model in upstream_models))
        add(
            "staging-refs-model",
            f"refs other models ({names})",
            "a staging model reads one source() only: move the join or lookup into an "
            "intermediate model (models/intermediate/).",
        )
    if layer not in (MARTS, AUDIT):
        marts = sorted(model["name"] for model in upstream_models if layer_of(model) == MARTS)
        if marts:
            add(
                "mart-referenced-upstream",
                f"is not a mart or audit model but refs a mart ({', '.join(marts)})",
                "dependencies flow staging -> intermediate -> marts: move the shared logic "
                "into an intermediate model that both read.",
            )
    if layer in (MARTS, FEATURES):
        contract = (node.get("config") or {}).get("contract") or node.get("contract") or {}
        if not contract.get("enforced"):
            add(
                "mart-contract",
                "does not enforce a contract",
                f"keep it under dbt_project/models/{layer}/, whose folder config in "
                "dbt_project.yml enforces the contract, drop any "
                f"`contract=` from its config() and give every column in {yml} its "
                "`data_type`.",
            )

    columns = node.get("columns") or {}
    if not columns:
        add(
            "column-description",
            "documents none of its columns",
            f"list every column with a description in {yml}.",
        )
    else:
        undocumented = sorted(
            column_name
            for column_name, column in columns.items()
            if not (column.get("description") or "").strip()
        )
        if undocumented:
            add(
                "column-description",
                f"has undocumented columns ({', '.join(undocumented)})",
                f"give each a description in {yml} (a shared one can live in a doc block).",
            )
    return found


def _source_violations(source: Node) -> list[Violation]:
    resource = f"source {source['source_name']}.{source['name']}"
    path = source.get("original_file_path", "")
    config = source.get("config") or {}
    freshness = config.get("freshness") or source.get("freshness") or {}
    thresholds = [
        threshold
        for threshold in (freshness.get("warn_after"), freshness.get("error_after"))
        if threshold and threshold.get("count")
    ]
    loaded_at = (
        config.get("loaded_at_field")
        or source.get("loaded_at_field")
        or config.get("loaded_at_query")
        or source.get("loaded_at_query")
    )
    if not thresholds:
        return [
            Violation(
                "source-freshness",
                resource,
                path,
                "declares no freshness",
                f"in {path}, under the table (or the source) set `config: {{freshness: "
                "{warn_after: {count: N, period: hour|day}}, loaded_at_field: <column>}` "
                "(for dlt tables, `to_timestamp(_dlt_load_id::numeric)`).",
            )
        ]
    if not loaded_at:
        return [
            Violation(
                "source-freshness",
                resource,
                path,
                "declares freshness but no loaded_at_field",
                f"in {path} add `loaded_at_field` (or `loaded_at_query`) under `config`: "
                "Postgres cannot tell freshness from metadata.",
            )
        ]
    return []


def _unaudited_staging(nodes: Mapping[str, Node], project: str | None) -> list[Violation]:
    """Staging models of loaded rows that the load audit model does not read."""
    audit = next(
        (
            node
            for node in nodes.values()
            if node.get("name") == LOAD_AUDIT_MODEL and node.get("package_name") == project
        ),
        None,
    )
    if audit is None:
        return []
    audited = set(audit.get("depends_on", {}).get("nodes", []))
    return [
        Violation(
            "staging-load-audited",
            f"model {node['name']}",
            node.get("original_file_path", ""),
            f"stages loaded rows ({', '.join(LOADED_ROW_COLUMNS)}) that {LOAD_AUDIT_MODEL} "
            "does not count",
            f"add it to `staged_tables` in {audit.get('original_file_path', LOAD_AUDIT_MODEL)} "
            "(source, raw table, model), so status and the report count its loads.",
        )
        for unique_id, node in sorted(nodes.items())
        if node.get("resource_type") == "model"
        and node.get("package_name") == project
        and layer_of(node) == STAGING
        and all(column in (node.get("columns") or {}) for column in LOADED_ROW_COLUMNS)
        and unique_id not in audited
        and "staging-load-audited" not in _skipped_rules(node)
    ]


SEMANTIC_RESOURCES = {
    "metrics": "metric",
    "semantic_models": "semantic model",
    "saved_queries": "saved query",
}
"""The semantic layer's resources in manifest.json: managers read their descriptions in the
dbt docs and in `mf list metrics`, so each says in plain words what it counts."""


def _semantic_violations(manifest: Manifest, project: str | None) -> list[Violation]:
    """Metrics, semantic models and saved queries of the project without a description."""
    return [
        Violation(
            "semantic-description",
            f"{kind} {resource['name']}",
            resource.get("original_file_path", ""),
            "has no description",
            f"add a `description:` to it in {resource.get('original_file_path', 'its YAML')}: "
            "what it counts, in words a manager understands.",
        )
        for key, kind in SEMANTIC_RESOURCES.items()
        for resource in (manifest.get(key) or {}).values()
        if resource.get("package_name") == project
        and not (resource.get("description") or "").strip()
    ]


def check_manifest(manifest: Manifest) -> list[Violation]:
    """Every rule violation of the root project's models and sources, ordered by resource."""
    project = manifest.get("metadata", {}).get("project_name")
    nodes: Mapping[str, Node] = manifest.get("nodes", {})
    sources: Mapping[str, Node] = manifest.get("sources", {})
    tests = _tests_by_model(manifest)
    violations: list[Violation] = []
    skipped = 0
    for unique_id, node in nodes.items():
        if node.get("resource_type") != "model" or node.get("package_name") != project:
            continue
        skip = _skipped_rules(node)
        for violation in _model_violations(node, tests.get(unique_id, []), nodes, sources):
            if violation.rule in skip:
                skipped += 1
                log.info("%s: rule %s skipped by its meta", violation.resource, violation.rule)
            else:
                violations.append(violation)
    for node in nodes.values():
        if node.get("resource_type") != "snapshot" or node.get("package_name") != project:
            continue
        marts = sorted(
            nodes[unique_id]["name"]
            for unique_id in node.get("depends_on", {}).get("nodes", [])
            if unique_id in nodes and layer_of(nodes[unique_id]) == MARTS
        )
        if marts:
            violations.append(
                Violation(
                    "mart-referenced-upstream",
                    f"snapshot {node['name']}",
                    node.get("original_file_path", ""),
                    f"snapshots a mart ({', '.join(marts)})",
                    "snapshot the source (or its staging model) instead: marts are rebuilt "
                    "from history, they are not history.",
                )
            )
    violations += _unaudited_staging(nodes, project)
    violations += _semantic_violations(manifest, project)
    for source in sources.values():
        if source.get("package_name") != project:
            continue
        skip = _skipped_rules(source)
        for violation in _source_violations(source):
            if violation.rule in skip:
                skipped += 1
                log.info("%s: rule %s skipped by its meta", violation.resource, violation.rule)
            else:
                violations.append(violation)
    log.debug("project rules: %d violations, %d skipped by meta", len(violations), skipped)
    return sorted(violations, key=lambda v: (v.resource, v.rule))
