"""The project rules on hand-made manifests: a clean project passes, each rule catches its case."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ingestion.cli.app import app
from ingestion.conventions.project_rules import RULES, check_manifest, has_primary_key_test

PROJECT = "shopflow"
FOLDERS = {
    "staging": "staging/ops",
    "intermediate": "intermediate/sales",
    "marts": "marts/sales",
    "features": "features",
}


def model(
    name: str,
    layer: str | None,
    depends_on: list[str] | None = None,
    contract: bool = False,
    columns: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A described, documented model node as `dbt parse` writes it (the parts the rules read)."""
    folder = FOLDERS.get(layer or "", layer or "")
    fqn = [PROJECT, *folder.split("/"), name] if folder else [PROJECT, name]
    path = f"dbt_project/models/{folder + '/' if folder else ''}{name}.sql"
    return {
        "unique_id": f"model.{PROJECT}.{name}",
        "resource_type": "model",
        "package_name": PROJECT,
        "name": name,
        "fqn": fqn,
        "original_file_path": path,
        "patch_path": f"{PROJECT}://{path[:-4]}.yml",
        "description": f"One row per {name}.",
        "columns": {
            column: {"name": column, "description": text}
            for column, text in (columns or {f"{name}_id": "The key."}).items()
        },
        "depends_on": {"nodes": depends_on or [], "macros": []},
        "config": {"contract": {"enforced": contract}, "meta": {}},
    }


def key_tests(model_name: str, column: str) -> list[dict[str, Any]]:
    """unique + not_null on one column of a model."""
    return [
        {
            "unique_id": f"test.{PROJECT}.{kind}_{model_name}_{column}",
            "resource_type": "test",
            "package_name": PROJECT,
            "name": f"{kind}_{model_name}_{column}",
            "attached_node": f"model.{PROJECT}.{model_name}",
            "column_name": column,
            "test_metadata": {"name": kind, "kwargs": {"column_name": column}, "namespace": None},
        }
        for kind in ("unique", "not_null")
    ]


def source(name: str, table: str, freshness: bool = True) -> dict[str, Any]:
    """A source table, with freshness and a loaded_at_field unless told otherwise."""
    threshold = {"count": 1, "period": "day"} if freshness else {"count": None, "period": None}
    return {
        "unique_id": f"source.{PROJECT}.{name}.{table}",
        "resource_type": "source",
        "package_name": PROJECT,
        "source_name": name,
        "name": table,
        "original_file_path": f"dbt_project/models/staging/{name}/_{name}__sources.yml",
        "config": {
            "freshness": {"warn_after": threshold, "error_after": {"count": None}},
            "loaded_at_field": "updated_at",
            "meta": {},
        },
    }


def clean_manifest() -> dict[str, Any]:
    """A small project that keeps every rule: source -> stg -> int -> fct/dim -> audit, and
    int -> a feature table."""
    orders_source = source("ops", "orders")
    audit_source = source("audit", "dbt_results")
    stg = model("stg_ops__orders", "staging", [orders_source["unique_id"]])
    intermediate = model("int_orders_priced", "intermediate", [stg["unique_id"]])
    fct = model("fct_orders", "marts", [intermediate["unique_id"]], contract=True)
    dim = model("dim_customers", "marts", [fct["unique_id"]], contract=True)
    audit = model("audit_dbt_results", "audit", [audit_source["unique_id"], fct["unique_id"]])
    load_audit = model("audit_load_quality", "audit", [stg["unique_id"]])
    feature = model("feat_orders_daily", "features", [intermediate["unique_id"]], contract=True)
    stg["columns"].update(
        is_valid={"name": "is_valid", "description": "Valid?"},
        loaded_at={"name": "loaded_at", "description": "Loaded."},
    )
    models = [stg, intermediate, fct, dim, audit, load_audit, feature]
    tests = [test for m in models for test in key_tests(m["name"], f"{m['name']}_id")]
    return {
        "metadata": {"project_name": PROJECT},
        "nodes": {node["unique_id"]: node for node in [*models, *tests]},
        "sources": {s["unique_id"]: s for s in (orders_source, audit_source)},
        **{key: {f"{key}.{PROJECT}.{name}": semantic(name)} for key, name in SEMANTIC.items()},
    }


SEMANTIC = {"metrics": "revenue", "semantic_models": "orders", "saved_queries": "monthly_revenue"}
"""One described semantic resource of each kind, by its manifest.json key."""


def semantic(name: str) -> dict[str, Any]:
    """A metric, semantic model or saved query as manifest.json holds it (the parts read)."""
    return {
        "name": name,
        "package_name": PROJECT,
        "original_file_path": "dbt_project/models/marts/_marts__metrics.yml",
        "description": f"What {name} counts.",
    }


def undescribe(key: str) -> Mutation:
    return lambda m: next(iter(m[key].values())).update(description=" ")


def node(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    return manifest["nodes"][f"model.{PROJECT}.{name}"]


def drop_key_test(manifest: dict[str, Any]) -> None:
    del manifest["nodes"][f"test.{PROJECT}.not_null_fct_orders_fct_orders_id"]


def add_model(manifest: dict[str, Any], new: dict[str, Any]) -> None:
    manifest["nodes"][new["unique_id"]] = new
    for test in key_tests(new["name"], f"{new['name']}_id"):
        manifest["nodes"][test["unique_id"]] = test


Mutation = Callable[[dict[str, Any]], None]

CASES: list[tuple[str, Mutation, str, str]] = [
    (
        "no description",
        lambda m: node(m, "int_orders_priced").update(description="  "),
        "model-description",
        "model int_orders_priced",
    ),
    ("key column lacks not_null", drop_key_test, "model-primary-key", "model fct_orders"),
    (
        "wrong prefix for the folder",
        lambda m: add_model(m, model("orders_enriched", "intermediate")),
        "model-naming",
        "model orders_enriched",
    ),
    (
        "model outside the layer folders",
        lambda m: add_model(m, model("misc_orders", None)),
        "model-layer",
        "model misc_orders",
    ),
    (
        "intermediate model calls source()",
        lambda m: node(m, "int_orders_priced")["depends_on"]["nodes"].append(
            f"source.{PROJECT}.ops.orders"
        ),
        "source-outside-staging",
        "model int_orders_priced",
    ),
    (
        "staging model refs a model",
        lambda m: add_model(
            m, model("stg_ops__payments", "staging", [f"model.{PROJECT}.stg_ops__orders"])
        ),
        "staging-refs-model",
        "model stg_ops__payments",
    ),
    (
        "intermediate model refs a mart",
        lambda m: add_model(
            m, model("int_orders_ranked", "intermediate", [f"model.{PROJECT}.fct_orders"])
        ),
        "mart-referenced-upstream",
        "model int_orders_ranked",
    ),
    (
        "mart without an enforced contract",
        lambda m: node(m, "dim_customers")["config"]["contract"].update(enforced=False),
        "mart-contract",
        "model dim_customers",
    ),
    (
        "feature table without an enforced contract",
        lambda m: node(m, "feat_orders_daily")["config"]["contract"].update(enforced=False),
        "mart-contract",
        "model feat_orders_daily",
    ),
    (
        "feature table refs a mart",
        lambda m: node(m, "feat_orders_daily")["depends_on"]["nodes"].append(
            f"model.{PROJECT}.fct_orders"
        ),
        "mart-referenced-upstream",
        "model feat_orders_daily",
    ),
    (
        "feature table with a mart's prefix",
        lambda m: add_model(m, model("mart_customer_features", "features", contract=True)),
        "model-naming",
        "model mart_customer_features",
    ),
    (
        "undocumented column",
        lambda m: node(m, "stg_ops__orders")["columns"].update(
            status={"name": "status", "description": ""}
        ),
        "column-description",
        "model stg_ops__orders",
    ),
    (
        "staging model of loaded rows missing from the load audit",
        lambda m: add_model(
            m,
            model(
                "stg_ops__refunds",
                "staging",
                [f"source.{PROJECT}.ops.orders"],
                columns={
                    "stg_ops__refunds_id": "The key.",
                    "is_valid": "Valid?",
                    "loaded_at": "Loaded.",
                },
            ),
        ),
        "staging-load-audited",
        "model stg_ops__refunds",
    ),
    (
        "metric without a description",
        undescribe("metrics"),
        "semantic-description",
        "metric revenue",
    ),
    (
        "semantic model without a description",
        undescribe("semantic_models"),
        "semantic-description",
        "semantic model orders",
    ),
    (
        "saved query without a description",
        undescribe("saved_queries"),
        "semantic-description",
        "saved query monthly_revenue",
    ),
    (
        "source without freshness",
        lambda m: m["sources"].update(
            {"source.shopflow.ops.payments": source("ops", "payments", freshness=False)}
        ),
        "source-freshness",
        "source ops.payments",
    ),
]


def test_a_clean_project_keeps_every_rule() -> None:
    assert check_manifest(clean_manifest()) == []


@pytest.mark.parametrize(
    ("mutate", "rule", "resource"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_rule_catches_its_violation(mutate: Mutation, rule: str, resource: str) -> None:
    manifest = clean_manifest()
    mutate(manifest)

    violations = check_manifest(manifest)

    assert [(v.rule, v.resource) for v in violations] == [(rule, resource)]
    assert violations[0].fix and violations[0].problem


def test_every_rule_has_a_case() -> None:
    assert {case[2] for case in CASES} == set(RULES)


def test_a_compound_key_test_counts_as_a_primary_key() -> None:
    compound = {
        "test_metadata": {
            "name": "unique_combination_of_columns",
            "kwargs": {"combination_of_columns": ["order_id", "line_number"]},
        }
    }
    split = [
        {"column_name": "order_id", "test_metadata": {"name": "unique"}},
        {"column_name": "line_number", "test_metadata": {"name": "not_null"}},
    ]
    assert has_primary_key_test([compound])
    assert not has_primary_key_test(split)


def test_a_model_can_skip_a_rule_in_its_meta() -> None:
    manifest = clean_manifest()
    node(manifest, "dim_customers")["config"]["contract"]["enforced"] = False
    node(manifest, "dim_customers")["config"]["meta"]["skip_project_rules"] = ["mart-contract"]

    assert check_manifest(manifest) == []


def test_nodes_of_installed_packages_are_not_checked() -> None:
    manifest = clean_manifest()
    foreign = copy.deepcopy(node(manifest, "int_orders_priced"))
    foreign.update(unique_id="model.other.whatever", package_name="other", description="")
    manifest["nodes"][foreign["unique_id"]] = foreign

    assert check_manifest(manifest) == []


def test_snapshot_of_a_mart_is_reported() -> None:
    manifest = clean_manifest()
    manifest["nodes"]["snapshot.shopflow.snap_fct_orders"] = {
        "resource_type": "snapshot",
        "package_name": PROJECT,
        "name": "snap_fct_orders",
        "original_file_path": "dbt_project/snapshots/snap_fct_orders.yml",
        "depends_on": {"nodes": [f"model.{PROJECT}.fct_orders"]},
    }

    assert [(v.rule, v.resource) for v in check_manifest(manifest)] == [
        ("mart-referenced-upstream", "snapshot snap_fct_orders")
    ]


def test_check_project_command_exits_non_zero_with_fixes(tmp_path: Path) -> None:
    manifest = clean_manifest()
    drop_key_test(manifest)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))

    result = CliRunner().invoke(app, ["check-project", "--manifest", str(path)])

    assert result.exit_code == 1
    assert "model fct_orders" in result.output and "model-primary-key" in result.output
    assert "unique_combination_of_columns" in result.output


def test_check_project_command_passes_a_clean_project(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(clean_manifest()))

    result = CliRunner().invoke(app, ["check-project", "--manifest", str(path)])

    assert result.exit_code == 0, result.output
    assert "rules hold" in result.output
