"""The deployment files list every service the local stack runs: a service added to the
devstack but forgotten in docker-compose or Kubernetes would deploy without it, silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from relacja_devstack.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = [spec for spec in SERVICES if not spec.is_gateway]


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
