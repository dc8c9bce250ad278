"""Known vulnerabilities in uv.lock: pip-audit over the exact pinned set, with decisions.

    python -m tests.security.audit [--strict]

1. ``uv export --frozen`` writes every locked third-party package of the workspace (all
   members and groups, with hashes) as a requirements file;
2. pip-audit checks it against PyPI's vulnerability data (its JSON API), without
   installing anything (``--disable-pip``: the pins are exact and hashed);
3. findings listed in ``audit-decisions.toml`` beside this file are accepted (each with
   its reason, docs/security.md); any other finding fails the run (exit 1).

A package pip-audit's source has no answer for (some networks, this workplace's among
them, answer 404 for PyPI's per-release JSON API ``/pypi/<name>/<version>/json``) is
looked up a second way: the project-level ``/pypi/<name>/json`` carries the known
vulnerabilities of the project's *latest* release, so a package locked at its latest
release is audited from there (``latest_release_findings``). One locked at an older
release is reported as not audited, with both versions. When no package could be audited
the run says so loudly and fails only with ``--strict`` (or RELACJA_AUDIT_STRICT=1),
since nothing was learnt either way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "DECISIONS",
    "audit_from_project",
    "decisions",
    "findings",
    "latest_release_findings",
    "locked_versions",
    "main",
]

ROOT = Path(__file__).resolve().parents[2]
DECISIONS = Path(__file__).with_name("audit-decisions.toml")


def decisions(path: Path = DECISIONS) -> dict[str, dict[str, Any]]:
    """The accepted findings by id; each must name its package and give a reason."""
    entries = tomllib.loads(path.read_text())["decision"]
    for entry in entries:
        missing = {"id", "package", "reason"} - entry.keys()
        if missing:
            raise SystemExit(f"{path}: a decision lacks {sorted(missing)}: {entry}")
    return {entry["id"]: entry for entry in entries}


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    return found


def export_requirements(target: Path) -> None:
    subprocess.run(
        [
            _uv(),
            "export",
            "--frozen",
            "--quiet",
            "--all-packages",
            "--all-groups",
            "--no-emit-workspace",
            "--format",
            "requirements-txt",
            "--output-file",
            str(target),
        ],
        check=True,
        cwd=ROOT,
    )


def run_pip_audit(requirements: Path) -> dict[str, Any]:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    result = subprocess.run(
        [
            str(pip_audit),
            "--requirement",
            str(requirements),
            "--disable-pip",
            "--no-deps",
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "--timeout",
            "30",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if result.returncode not in (0, 1):  # 1: vulnerabilities found; anything else: it failed
        raise SystemExit(f"pip-audit failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    report: dict[str, Any] = json.loads(result.stdout)
    return report


async def _project(client: httpx.AsyncClient, name: str) -> dict[str, Any] | None:
    try:
        response = await client.get(f"https://pypi.org/pypi/{name}/json")
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    project: dict[str, Any] = response.json()
    return project


def locked_versions(requirements: Path) -> dict[str, str]:
    """name → version of every ``name==version`` pin of an exported requirements file."""
    pins = {}
    for line in requirements.read_text().splitlines():
        requirement = line.split(";")[0].split("\\")[0].strip()
        if "==" in requirement and not requirement.startswith(("#", "-")):
            name, version = requirement.split("==", 1)
            pins[_normalised(name)] = version.strip()
    return pins


def _normalised(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


async def latest_release_findings(report: dict[str, Any], pins: dict[str, str]) -> dict[str, Any]:
    """The report with each skipped package that is locked at its project's latest release
    audited from the project-level JSON (same vulnerability records as the per-release API:
    ``id``, ``aliases``, ``fixed_in``, ``withdrawn``); the others keep a skip reason naming
    the locked and the latest version."""
    skipped = [d for d in report["dependencies"] if "skip_reason" in d]
    async with httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=16)) as client:
        projects = await asyncio.gather(*(_project(client, d["name"]) for d in skipped))
    for dependency, project in zip(skipped, projects, strict=True):
        locked = pins.get(_normalised(dependency["name"]))
        if project is not None and locked is not None:
            audit_from_project(dependency, locked, project)
    return report


def audit_from_project(dependency: dict[str, Any], locked: str, project: dict[str, Any]) -> None:
    """Fill a skipped pip-audit entry from the project-level JSON, in pip-audit's shape, if
    ``locked`` is the latest release (withdrawn records left out); else say why not."""
    dependency["version"] = locked
    latest = project["info"]["version"]
    if latest != locked:
        dependency["skip_reason"] = (
            f"locked at {locked}, PyPI's latest is {latest}: only the latest release's "
            "vulnerabilities are published where the per-release API does not answer"
        )
        return
    dependency.pop("skip_reason", None)
    dependency["vulns"] = [
        {"id": v["id"], "aliases": v.get("aliases") or [], "fix_versions": v.get("fixed_in") or []}
        for v in project.get("vulnerabilities") or []
        if not v.get("withdrawn")
    ]


def findings(report: dict[str, Any], accepted: dict[str, dict[str, Any]]) -> tuple[list[str], list[str], list[str]]:
    """(unaccepted findings, accepted findings, packages not audited) of a pip-audit report."""
    open_, known, skipped = [], [], []
    for dependency in report["dependencies"]:
        if "skip_reason" in dependency:
            skipped.append(f"{dependency['name']}: {dependency['skip_reason']}")
            continue
        for vulnerability in dependency.get("vulns", []):
            ids = {vulnerability["id"], *vulnerability.get("aliases", [])}
            line = (
                f"{dependency['name']} {dependency['version']}: {vulnerability['id']} "
                f"(fixed in {', '.join(vulnerability.get('fix_versions', [])) or 'no release yet'})"
            )
            decided = next((accepted[i] for i in sorted(ids) if i in accepted), None)
            if decided is not None and decided["package"].lower() == dependency["name"].lower():
                known.append(f"{line} — accepted: {decided['reason']}")
            else:
                open_.append(line)
    return open_, known, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.security.audit", description=__doc__.split("\n")[0])
    parser.add_argument("--strict", action="store_true", default=os.environ.get("RELACJA_AUDIT_STRICT") == "1")
    args = parser.parse_args(argv)
    accepted = decisions()
    with tempfile.TemporaryDirectory() as folder:
        requirements = Path(folder) / "requirements.txt"
        export_requirements(requirements)
        report = run_pip_audit(requirements)
        pins = locked_versions(requirements)
    report = asyncio.run(latest_release_findings(report, pins))
    open_, known, skipped = findings(report, accepted)
    total = len(report["dependencies"])
    for line in known:
        print(f"audit: {line}")
    for line in open_:
        print(f"audit: VULNERABLE {line} — fix it, or record a decision in {DECISIONS.relative_to(ROOT)}")
    if skipped and len(skipped) == total:
        print(
            f"audit: WARNING the vulnerability source answered for none of the {total} locked packages, "
            f"so nothing was audited (first: {skipped[0]})"
        )
        return 1 if args.strict or open_ else 0
    for line in skipped:
        print(f"audit: not audited: {line}")
    print(f"audit: {total - len(skipped)} of {total} locked packages audited, {len(open_)} open findings")
    return 1 if open_ else 0


if __name__ == "__main__":
    raise SystemExit(main())
