"""What an on-call engineer relies on: the alert rules work, and the dashboards and alerts
refer only to metrics the running services really export.

promtool comes from Debian's `prometheus` package; `make test` installs it when missing
(the `promtool` target), as it does the browser.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import yaml

from relacja_devstack import Stack

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
METRIC_NAME = re.compile(r"\brelacja_[a-z0-9_]+\b")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: `make promtool` installs it (Debian's prometheus package)"
    return subprocess.run([binary, *args], cwd=OBSERVABILITY, capture_output=True, text=True, timeout=120)


def test_the_alert_rules_are_valid_and_their_unit_tests_pass() -> None:
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def referenced_metrics() -> dict[str, set[str]]:
    """Metric names in every dashboard's queries and every alert's expression, by file."""
    found: dict[str, set[str]] = {}
    for dashboard in sorted((OBSERVABILITY / "dashboards").glob("*.json")):
        document = json.loads(dashboard.read_text())
        exprs = [target["expr"] for panel in document["panels"] for target in panel["targets"]]
        exprs += [variable.get("query", "") for variable in document["templating"]["list"]]
        found[dashboard.name] = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    rules = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())
    found["alerts.yml"] = {
        name for group in rules["groups"] for rule in group["rules"] for name in METRIC_NAME.findall(rule["expr"])
    }
    return found


def exported_series_names(exposition: str) -> set[str]:
    """The series names a /metrics page can carry: every family, with a histogram's parts."""
    names: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            names.add(name)
            if kind == "histogram":
                names.update({f"{name}_bucket", f"{name}_sum", f"{name}_count"})
    return names


async def test_dashboards_and_alerts_use_only_metrics_the_services_export(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=10.0, trust_env=False) as client:
        pages = await asyncio.gather(
            *(client.get(f"{stack.service_url(spec.name)}/metrics") for spec in stack.config.services)
        )
    exported: set[str] = set()
    for spec, page in zip(stack.config.services, pages, strict=True):
        assert page.status_code == 200, f"{spec.name}: /metrics answered {page.status_code}"
        exported |= exported_series_names(page.text)
    references = referenced_metrics()
    assert all(references.values()), f"a file refers to no metric at all: {references}"
    unknown = {file: sorted(names - exported) for file, names in references.items() if names - exported}
    assert not unknown, f"metrics no service exports: {unknown}"
