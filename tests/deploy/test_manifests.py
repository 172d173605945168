"""deploy/: the Kubernetes manifests parse and hang together, the pipeline's settings reach
the pod, and the image and its build context keep secrets and local state out. Offline and
fast (pyyaml only); `make deploy-check` runs it beside checkov (docs/deployment.md).

Each check returns the problems it finds, one sentence each, so that the last test can prove
the checks fail on a broken copy of the manifests."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from ingestion.settings import (
    ENV_DBT_PROFILES_DIR,
    ENV_ENV_FILE,
    ENV_SCHEMA_PREFIX,
    REPO_ROOT,
    VARIABLES,
)

DEPLOY = REPO_ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
NAMESPACE = "shopflow"
# Settings that make no sense in the cluster (configmap.yaml says why, in its header).
NOT_IN_CLUSTER = {ENV_ENV_FILE, ENV_SCHEMA_PREFIX, ENV_DBT_PROFILES_DIR}
"""A developer's settings: a dotenv file, slim CI's prefix, where `shopflow db start` writes
dbt's profile (the pipeline writes its own for each dbt call)."""
SECRET_SETTINGS = {
    "SHOPFLOW_PG_PASSWORD",
    "SHOPFLOW_ALERT_URL",
    "SHOPFLOW_ALERT_WEBHOOK",
    "SHOPFLOW_EXPORT_MAIL_URL",
    "SOURCES__STOREFRONT__API_KEY",
}
PLACEHOLDERS = {"", "change-me"}
DOCKERIGNORED = {".venv", ".shopflow", "data", "target", "logs", "exports", "reports"}
DOCKERIGNORED_SECRETS = {".env", "profiles.yml", ".dlt/secrets.toml"}


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every YAML file under the folder, parsed (a file that does not parse raises)."""
    return {
        str(path.relative_to(folder)): documents(path)
        for path in sorted([*folder.rglob("*.yaml"), *folder.rglob("*.yml")])
    }


def kustomization_problems(folder: Path) -> list[str]:
    kustomization = documents(folder / "kustomization.yaml")[0]
    problems = []
    for resource in kustomization.get("resources", []):
        path = folder / resource
        if not path.is_file():
            problems.append(f"kustomization.yaml lists {resource}, which does not exist.")
            continue
        for doc in documents(path):
            if not {"apiVersion", "kind"} <= doc.keys() or not doc.get("metadata", {}).get("name"):
                problems.append(f"{resource}: a document without apiVersion, kind or name.")
            elif doc["kind"] != "Namespace" and doc["metadata"].get("namespace") != NAMESPACE:
                problems.append(f"{resource}: {doc['kind']} is not in namespace {NAMESPACE}.")
    return problems


def pod_specs(folder: Path) -> dict[str, dict[str, Any]]:
    """The pod specs of the CronJob, of the Airflow worker pod template and of the clickstream
    consumer's Deployment."""
    cronjob = documents(folder / "cronjob.yaml")[0]
    return {
        "cronjob.yaml": cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"],
        "pod_template.yaml": documents(folder / "pod_template.yaml")[0]["spec"],
        "stream-consumer.yaml": documents(folder / "stream-consumer.yaml")[0]["spec"]["template"][
            "spec"
        ],
    }


def pod_problems(name: str, spec: dict[str, Any]) -> list[str]:
    problems = []
    if spec.get("securityContext", {}).get("runAsNonRoot") is not True:
        problems.append(f"{name}: the pod does not set runAsNonRoot.")
    for container in spec["containers"]:
        where = f"{name}, container {container['name']}"
        resources = container.get("resources", {})
        for kind in ("requests", "limits"):
            if not {"cpu", "memory"} <= resources.get(kind, {}).keys():
                problems.append(f"{where}: no cpu and memory {kind}.")
        context = container.get("securityContext", {})
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: privilege escalation is not turned off.")
        if context.get("readOnlyRootFilesystem") is not True:
            problems.append(f"{where}: the root filesystem is not read-only.")
        if context.get("capabilities", {}).get("drop") != ["ALL"]:
            problems.append(f"{where}: capabilities are not all dropped.")
        mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        if not {"/tmp", "/var/lib/shopflow"} <= mounts:
            problems.append(f"{where}: /tmp and /var/lib/shopflow are not both writable volumes.")
        sources = {next(iter(source.values()))["name"] for source in container.get("envFrom", [])}
        if sources != {"shopflow-config", "shopflow-secrets"}:
            problems.append(f"{where}: does not read the settings from the ConfigMap and Secret.")
    return problems


def settings_problems(folder: Path) -> list[str]:
    config = documents(folder / "configmap.yaml")[0]["data"]
    secret = documents(folder / "secret.yaml")[0]["stringData"]
    problems = []
    wanted = {variable.name for variable in VARIABLES} - NOT_IN_CLUSTER
    missing = wanted - config.keys() - secret.keys()
    if missing:
        problems.append(f"settings missing from the ConfigMap and Secret: {sorted(missing)}.")
    unknown = (config.keys() | secret.keys()) - wanted
    if unknown:
        problems.append(f"settings ingestion/settings.py does not declare: {sorted(unknown)}.")
    if SECRET_SETTINGS & config.keys():
        problems.append(f"secrets in the ConfigMap: {sorted(SECRET_SETTINGS & config.keys())}.")
    real_looking = sorted(name for name, value in secret.items() if value not in PLACEHOLDERS)
    if real_looking:
        problems.append(f"secret.yaml holds values that are not placeholders: {real_looking}.")
    return problems


def test_every_yaml_under_deploy_kubernetes_parses() -> None:
    parsed = manifests(KUBERNETES)
    assert {"kustomization.yaml", "pod_template.yaml", "airflow-values.yaml"} <= parsed.keys()
    assert all(parsed.values()), "an empty YAML file"


def test_kustomization_resources_exist_and_are_namespaced() -> None:
    assert kustomization_problems(KUBERNETES) == []


@pytest.mark.parametrize("name", ["cronjob.yaml", "pod_template.yaml", "stream-consumer.yaml"])
def test_pods_are_hardened_and_bounded(name: str) -> None:
    assert pod_problems(name, pod_specs(KUBERNETES)[name]) == []


def test_every_cluster_setting_is_in_the_configmap_or_the_secret() -> None:
    assert settings_problems(KUBERNETES) == []


def test_the_cronjob_runs_hourly_one_at_a_time_and_bounded() -> None:
    spec = documents(KUBERNETES / "cronjob.yaml")[0]["spec"]
    job = spec["jobTemplate"]["spec"]
    container = job["template"]["spec"]["containers"][0]
    assert (spec["schedule"], spec["concurrencyPolicy"]) == ("0 * * * *", "Forbid")
    assert container["args"] == ["run", "--wait", "0"]
    assert job["activeDeadlineSeconds"] > 0 and job["backoffLimit"] >= 0


def test_the_broker_is_a_three_node_jetstream_cluster_the_consumers_reach() -> None:
    by_kind = {doc["kind"]: doc for doc in documents(KUBERNETES / "nats.yaml")}
    services = {
        doc["metadata"]["name"]: doc
        for doc in documents(KUBERNETES / "nats.yaml")
        if doc["kind"] == "Service"
    }
    servers = by_kind["StatefulSet"]["spec"]
    config = by_kind["ConfigMap"]["data"]["nats.conf"]
    assert servers["replicas"] == 3
    assert "jetstream" in config and config.count("nats://nats-") == servers["replicas"]
    assert by_kind["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    settings = documents(KUBERNETES / "configmap.yaml")[0]["data"]
    client_port = services["nats"]["spec"]["ports"][0]["port"]
    assert settings["SHOPFLOW_NATS_HOST"].startswith(f"nats.{NAMESPACE}.")
    assert settings["SHOPFLOW_NATS_PORT"] == str(client_port)
    consumer = documents(KUBERNETES / "stream-consumer.yaml")[0]["spec"]
    assert consumer["template"]["spec"]["containers"][0]["args"] == ["stream", "consume"]
    assert consumer["replicas"] >= 2


def test_airflow_runs_the_kubernetes_executor_with_bounded_components() -> None:
    values = documents(KUBERNETES / "airflow-values.yaml")[0]
    assert values["executor"] == "KubernetesExecutor"
    for component in ("scheduler", "webserver", "triggerer", "statsd", "migrateDatabaseJob"):
        resources = values[component]["resources"]
        assert resources["requests"] and resources["limits"], component


def test_the_image_runs_shopflow_as_a_user_without_secrets() -> None:
    lines = [line.strip() for line in (DEPLOY / "Dockerfile").read_text().splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0].startswith("FROM python:3.11-slim")
    assert 'ENTRYPOINT ["shopflow"]' in instructions
    users = [line.split()[1] for line in instructions if line.startswith("USER ")]
    assert users and not users[-1].startswith(("root", "0"))
    assert not any("PASSWORD" in line or "API_KEY" in line for line in instructions)


def test_the_build_context_leaves_out_local_state_and_secrets() -> None:
    ignored = {
        line.strip()
        for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert ignored >= DOCKERIGNORED | DOCKERIGNORED_SECRETS


def test_the_checks_fail_on_broken_manifests(tmp_path: Path) -> None:
    broken = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES, broken)
    kustomization = broken / "kustomization.yaml"
    kustomization.write_text(
        kustomization.read_text().replace("resources:\n", "resources:\n  - missing.yaml\n")
    )
    (broken / "configmap.yaml").write_text(
        (broken / "configmap.yaml").read_text() + '  SHOPFLOW_PG_PASSWORD: "hunter2"\n'
    )
    (broken / "secret.yaml").write_text(
        (broken / "secret.yaml")
        .read_text()
        .replace('API_KEY: "change-me"', 'API_KEY: "s3cr3t-value"')
    )
    cronjob = broken / "cronjob.yaml"
    cronjob.write_text(
        cronjob.read_text().replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    )

    assert any("missing.yaml" in problem for problem in kustomization_problems(broken))
    settings = " ".join(settings_problems(broken))
    assert "secrets in the ConfigMap" in settings and "not placeholders" in settings
    assert any(
        "read-only" in problem
        for problem in pod_problems("cronjob.yaml", pod_specs(broken)["cronjob.yaml"])
    )
    (broken / "unparsable.yaml").write_text("key: [unclosed\n")
    with pytest.raises(yaml.YAMLError):
        manifests(broken)
