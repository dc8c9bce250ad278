"""Known vulnerabilities in uv.lock: pip-audit over the exact pinned set, with decisions.

    python -m tests.security.audit [--strict]

1. ``uv export --frozen`` writes every locked third-party package of the workspace (all
   members and groups, with hashes) as a requirements file;
2. pip-audit checks it against PyPI's vulnerability data (its JSON API), without
   installing anything (``--disable-pip``: the pins are exact and hashed);
3. findings listed in ``audit-decisions.toml`` beside this file are accepted (each with
   its reason, docs/security.md); any other finding fails the run (exit 1).

A package the vulnerability source has no answer for is reported as not audited. When
that is every package, the source was unreachable (a machine without PyPI's per-release
JSON API): the run says so loudly and fails only with ``--strict`` (or
RELACJA_AUDIT_STRICT=1), since nothing was learnt either way.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

__all__ = ["DECISIONS", "decisions", "findings", "main"]

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
