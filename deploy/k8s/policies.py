"""Writes deploy/k8s/network-policies.yaml and availability.yaml for every service.

    python deploy/k8s/policies.py          # rewrite both files
    python deploy/k8s/policies.py --check  # exit 1 if they differ from what it would write

The service list is the local stack's (relacja_devstack.services.SERVICES), so a new
service gets its policies by running this once; tests/unit/test_deploy_manifests.py runs
the check. Generated rather than written by hand because every service needs the same
four objects and the network rules must follow each service's declared peers exactly.

Network policies (a namespace default-deny, then one allow-list per service):
- ingress to a service's pods only from the gateway's pods and from Prometheus (namespace
  ``monitoring``) on port 8000; the gateway takes ingress from anywhere (the Ingress
  controller in front of it);
- egress to DNS, PostgreSQL (5432) and Kafka (9092) wherever they run, to the services it
  reads from directly (``reads_from``: a read-through on a projection miss) on 8000, and
  the extra destinations a service's job needs (``EXTRA_EGRESS``).
Availability: a PodDisruptionBudget per Deployment (api, worker, gateway) and a
HorizontalPodAutoscaler for each ``api`` Deployment and the gateway (CPU 70 %, from the
manifests' replica count up to 6).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from relacja_devstack.services import SERVICES, ServiceSpec

HERE = Path(__file__).resolve().parent
PORT = 8000
MAX_REPLICAS = 6
PRIVATE_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"]

# Destinations beyond PostgreSQL, Kafka and declared peers, by service.
EXTRA_EGRESS: dict[str, list[dict[str, Any]]] = {
    # Partners' webhook endpoints: public HTTPS only — the service refuses private addresses
    # itself (SSRF), and the policy refuses them again.
    "sharing": [
        {
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
    ],
    # The mail server (SMTP submission).
    # and the SMS / push providers' webhook endpoints (public HTTPS only, like sharing's).
    "engagement": [
        {"ports": [{"protocol": "TCP", "port": port} for port in (25, 465, 587)]},
        {
            "to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": PRIVATE_RANGES}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        },
    ],
    # The identity provider's JWKS, when RS256 tokens are used.
    "gateway": [{"ports": [{"protocol": "TCP", "port": 443}]}],
}


def labels(name: str, **extra: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, **extra}


def dns_and_data() -> list[dict[str, Any]]:
    return [
        {
            "to": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
        },
        # PostgreSQL and Kafka usually live outside the namespace (managed services or
        # their own namespaces): any destination, those ports only.
        {"ports": [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 9092}]},
    ]


def to_service(name: str) -> dict[str, Any]:
    return {"to": [{"podSelector": {"matchLabels": labels(name)}}], "ports": [{"protocol": "TCP", "port": PORT}]}


def network_policies(services: tuple[ServiceSpec, ...]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = [
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "labels": {"app.kubernetes.io/component": "network-policy"}},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        }
    ]
    backends = [s for s in services if not s.is_gateway]
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
    }
    for spec in services:
        if spec.is_gateway:
            ingress = [{"ports": [{"protocol": "TCP", "port": PORT}]}]
            egress = [*dns_and_data()[:1], *(to_service(s.name) for s in backends)]
        else:
            ingress = [
                {
                    "from": [{"podSelector": {"matchLabels": labels("gateway")}}, monitoring],
                    "ports": [{"protocol": "TCP", "port": PORT}],
                }
            ]
            egress = [*dns_and_data(), *(to_service(peer) for peer in spec.reads_from)]
        egress += EXTRA_EGRESS.get(spec.name, [])
        docs.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {
                    "name": spec.name,
                    "labels": labels(spec.name, **{"app.kubernetes.io/component": "network-policy"}),
                },
                "spec": {
                    "podSelector": {"matchLabels": labels(spec.name)},
                    "policyTypes": ["Ingress", "Egress"],
                    "ingress": ingress,
                    "egress": egress,
                },
            }
        )
    return docs


def deployments(spec: ServiceSpec) -> list[tuple[str, str, bool]]:
    """(Deployment name, component label, autoscaled) of one service."""
    if spec.is_gateway:
        return [(spec.name, "gateway", True)]
    return [(f"{spec.name}-api", "api", True), (f"{spec.name}-worker", "worker", False)]


def availability(services: tuple[ServiceSpec, ...]) -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for spec in services:
        for deployment, component, autoscaled in deployments(spec):
            selector = labels(spec.name, **{"app.kubernetes.io/component": component})
            docs.append(
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": {"name": deployment, "labels": selector},
                    # One pod at a time: an api keeps answering, a worker's partitions move
                    # to the others (or wait for the replacement when it runs alone).
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
                }
            )
            if autoscaled:
                docs.append(
                    {
                        "apiVersion": "autoscaling/v2",
                        "kind": "HorizontalPodAutoscaler",
                        "metadata": {"name": deployment, "labels": selector},
                        "spec": {
                            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
                            # The manifests' replica count, so a re-apply never goes below it.
                            "minReplicas": 2,
                            "maxReplicas": MAX_REPLICAS,
                            "metrics": [
                                {
                                    "type": "Resource",
                                    "resource": {
                                        "name": "cpu",
                                        "target": {"type": "Utilization", "averageUtilization": 70},
                                    },
                                }
                            ],
                        },
                    }
                )
    return docs


def render(title: str, docs: list[dict[str, Any]]) -> str:
    header = (
        f"# {title}\n# Generated by deploy/k8s/policies.py from the service list; edit that script, not this file.\n"
    )
    return header + yaml.safe_dump_all(docs, sort_keys=False, explicit_start=True)


def files() -> dict[Path, str]:
    return {
        HERE / "network-policies.yaml": render(
            "NetworkPolicies: default-deny, then each service's allowed peers", network_policies(SERVICES)
        ),
        HERE / "availability.yaml": render(
            "PodDisruptionBudgets and HorizontalPodAutoscalers of every Deployment", availability(SERVICES)
        ),
    }


def main(argv: list[str]) -> int:
    stale = [path for path, text in files().items() if not path.is_file() or path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"{path.name} is out of date: run python deploy/k8s/policies.py", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
