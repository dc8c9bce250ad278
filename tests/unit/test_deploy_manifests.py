"""The deployment files list every service the local stack runs: a service added to the
devstack but forgotten in docker-compose or Kubernetes would deploy without it, silently."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from relacja_devstack.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = [spec for spec in SERVICES if not spec.is_gateway]
KUBERNETES_VERSION = "1.31"


def _load_policies():
    spec = importlib.util.spec_from_file_location("policies", ROOT / "deploy" / "k8s" / "policies.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


policies = _load_policies()


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def k8s(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((ROOT / "deploy" / "k8s" / name).read_text()) if doc]


@pytest.mark.parametrize("spec", BACKENDS, ids=[s.name for s in BACKENDS])
def test_compose_runs_and_migrates_every_service(spec) -> None:
    services = compose()["services"]
    assert spec.name in services
    assert services["gateway"]["depends_on"][spec.name] == {"condition": "service_healthy"}
    upstreams = json.loads(services["gateway"]["environment"]["RELACJA_GATEWAY_UPSTREAMS"])
    assert upstreams[spec.name] == f"http://{spec.name}:8000"
    if spec.database:
        assert f"migrate-{spec.name}" in services
        init = (ROOT / "deploy" / "compose" / "postgres-init.sql").read_text()
        assert f"CREATE DATABASE {spec.database_name};" in init


@pytest.mark.parametrize("spec", BACKENDS, ids=[s.name for s in BACKENDS])
def test_kubernetes_deploys_every_service(spec) -> None:
    kustomization = yaml.safe_load((ROOT / "deploy" / "k8s" / "kustomization.yaml").read_text())
    assert f"{spec.name}.yaml" in kustomization["resources"]
    assert f"relacja/{spec.name}" in {image["name"] for image in kustomization["images"]}
    kinds = {(doc["kind"], doc["metadata"]["name"]) for doc in k8s(f"{spec.name}.yaml")}
    assert {("Deployment", f"{spec.name}-api"), ("Deployment", f"{spec.name}-worker"), ("Service", spec.name)} <= kinds
    config = k8s("config.yaml")[0]["data"]
    assert json.loads(config["gateway-upstreams"])[spec.name] == f"http://{spec.name}:8000"
    secret = k8s("secret.template.yaml")[0]["stringData"]
    assert spec.database is False or f"{spec.name}-database-url" in secret


def rendered_manifests() -> list[dict]:
    """`kustomize build deploy/k8s` as kubectl renders it (kubectl ≥ 1.21 carries kustomize v4+)."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is missing: install it (it renders the kustomization: `kubectl kustomize deploy/k8s`)"
    out = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "k8s")], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def test_the_kustomization_renders_and_every_object_matches_the_kubernetes_schemas() -> None:
    documents = rendered_manifests()
    for document in documents:
        # strict: an unknown field (a typo) is an error, as the API server's strict decoding makes it.
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
    kinds = {document["kind"] for document in documents}
    assert {"Deployment", "Job", "Service", "NetworkPolicy", "PodDisruptionBudget", "HorizontalPodAutoscaler"} <= kinds


def test_the_generated_policies_cover_every_service() -> None:
    assert policies.main(["--check"]) == 0, "run python deploy/k8s/policies.py"
    rendered = rendered_manifests()
    names = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered}
    assert ("NetworkPolicy", "default-deny") in names
    for spec in SERVICES:
        assert ("NetworkPolicy", spec.name) in names
        api = spec.name if spec.is_gateway else f"{spec.name}-api"
        assert {("PodDisruptionBudget", api), ("HorizontalPodAutoscaler", api)} <= names
        if not spec.is_gateway:
            assert ("PodDisruptionBudget", f"{spec.name}-worker") in names


@pytest.mark.parametrize("spec", BACKENDS, ids=[s.name for s in BACKENDS])
def test_only_the_gateway_and_monitoring_reach_a_service_and_it_reaches_only_its_declared_peers(spec) -> None:
    policy = next(
        doc for doc in rendered_manifests() if doc["kind"] == "NetworkPolicy" and doc["metadata"]["name"] == spec.name
    )
    (ingress,) = policy["spec"]["ingress"]
    sources = [
        peer.get("podSelector", {}).get("matchLabels") or peer["namespaceSelector"]["matchLabels"]
        for peer in ingress["from"]
    ]
    assert sources == [{"app.kubernetes.io/name": "gateway"}, {"kubernetes.io/metadata.name": "monitoring"}]
    service_peers = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for rule in policy["spec"]["egress"]
        for peer in rule.get("to", [])
        if "podSelector" in peer and "namespaceSelector" not in peer
    }
    assert service_peers == set(spec.reads_from)
