"""deploy/README.md's Kubernetes apply sequence, checked without a cluster.

No Kubernetes API server can run on this kind of machine (none ships in Debian's or PyPI's
packages; deploy/README.md, "What was validated"), so the ``kubectl`` commands of "Apply
order" are not executed. What can be checked offline is checked here, from the README's
own code block: each step's label selector, evaluated over ``kubectl kustomize
deploy/k8s``, picks exactly what the step's comment says (step 1 the namespace and the
shared settings, step 3 every migration Job and the topics Job and nothing else), and the
Secret command of ``k8s/secret.template.yaml`` (run by kubectl with ``--dry-run=client``)
creates every key the manifests read from ``relacja-secrets``.
"""

from __future__ import annotations

import functools
import json
import re
import shlex
import subprocess
from pathlib import Path

import yaml

from relacja_devstack.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]


def apply_order_commands() -> list[str]:
    text = (ROOT / "deploy" / "README.md").read_text()
    section = text.split("\n### Apply order\n", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "deploy/README.md: no ```sh block under '### Apply order'"
    return [line for line in block.group(1).splitlines() if line.startswith("kubectl ")]


@functools.cache
def rendered() -> list[dict]:
    out = subprocess.run(
        ["kubectl", "kustomize", str(ROOT / "deploy" / "k8s")], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def selector_of(command: str) -> str:
    words = shlex.split(command)
    return words[words.index("-l") + 1]


def matches(labels: dict[str, str], selector: str) -> bool:
    """Kubernetes label-selector semantics: equality (=, ==, !=), set (in, notin), exists."""
    for requirement in re.split(r",(?![^(]*\))", selector):
        requirement = requirement.strip()
        if found := re.fullmatch(r"([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)", requirement):
            key, operator, values = found.groups()
            inside = labels.get(key) in {v.strip() for v in values.split(",")}
            if inside != (operator == "in"):
                return False
        elif found := re.fullmatch(r"([\w./-]+)\s*(==|=|!=)\s*([\w./-]*)", requirement):
            key, operator, value = found.groups()
            if (labels.get(key) == value) != (operator != "!="):
                return False
        elif requirement.startswith("!"):
            if requirement[1:] in labels:
                return False
        elif requirement not in labels:
            return False
    return True


def selected(selector: str) -> set[tuple[str, str]]:
    return {
        (doc["kind"], doc["metadata"]["name"])
        for doc in rendered()
        if matches(doc["metadata"].get("labels") or {}, selector)
    }


def secret_refs(node: object) -> list[dict]:
    if isinstance(node, dict):
        own = [node["secretKeyRef"]] if "secretKeyRef" in node else []
        return own + [ref for value in node.values() for ref in secret_refs(value)]
    if isinstance(node, list):
        return [ref for item in node for ref in secret_refs(item)]
    return []


def test_the_selector_evaluation_follows_kubernetes() -> None:
    labels = {"app.kubernetes.io/component": "migration", "tier": "x"}
    assert matches(labels, "app.kubernetes.io/component in (migration,topics)")
    assert not matches(labels, "app.kubernetes.io/component notin (migration, topics)")
    assert matches(labels, "tier=x,app.kubernetes.io/component!=api")
    assert not matches(labels, "tier==y")
    assert matches(labels, "tier") and not matches(labels, "!tier")


def test_step_1_applies_the_namespace_and_the_shared_settings() -> None:
    (command,) = [c for c in apply_order_commands() if "component=config" in c]
    assert selected(selector_of(command)) == {("Namespace", "relacja"), ("ConfigMap", "relacja-config")}


def test_step_3_deletes_applies_and_waits_for_exactly_the_one_off_jobs() -> None:
    commands = [c for c in apply_order_commands() if "migration" in c]
    assert [shlex.split(c)[1:4] for c in commands] == [
        ["-n", "relacja", "delete"],
        ["apply", "-k", "deploy/k8s"],
        ["-n", "relacja", "wait"],
    ]
    jobs = {("Job", f"{spec.name}-migrate") for spec in SERVICES if spec.database} | {("Job", "topics")}
    every_job = {(doc["kind"], doc["metadata"]["name"]) for doc in rendered() if doc["kind"] == "Job"}
    assert jobs == every_job
    for command in commands:
        assert selected(selector_of(command)) == jobs, command


def test_the_secret_command_creates_every_key_the_manifests_read() -> None:
    template = (ROOT / "deploy" / "k8s" / "secret.template.yaml").read_text()
    lines = [line[1:].strip() for line in template.splitlines() if line.startswith("#")]
    start = next(i for i, line in enumerate(lines) if line.startswith("kubectl "))
    command = ""
    for line in lines[start:]:
        command += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            break
    out = subprocess.run(
        ["bash", "-c", f"{command} --dry-run=client -o json"], capture_output=True, text=True, check=True
    ).stdout
    created = set(json.loads(out)["data"])
    read = {ref["key"] for ref in secret_refs(rendered()) if ref["name"] == "relacja-secrets"}
    assert read, "no secretKeyRef to relacja-secrets in the rendered manifests"
    assert read <= created, read - created
