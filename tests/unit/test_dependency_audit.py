"""The dependency audit's verdict (tests/security/audit.py) on pip-audit reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.audit import DECISIONS, decisions, findings

REPORT = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.0.0",
            "vulns": [{"id": "GHSA-aaaa", "aliases": ["CVE-1"], "fix_versions": ["3.1.5"]}],
        },
        {"name": "requests", "version": "2.0.0", "vulns": [{"id": "PYSEC-1", "aliases": [], "fix_versions": []}]},
        {"name": "idna", "version": "3.10", "vulns": []},
        {"name": "private-thing", "skip_reason": "Dependency not found on PyPI"},
    ]
}


def test_a_finding_without_a_decision_is_open() -> None:
    open_, known, skipped = findings(REPORT, {})
    assert open_ == ["jinja2 3.0.0: GHSA-aaaa (fixed in 3.1.5)", "requests 2.0.0: PYSEC-1 (fixed in no release yet)"]
    assert known == [] and skipped == ["private-thing: Dependency not found on PyPI"]


def test_a_decision_by_any_alias_accepts_the_finding_of_its_package_only() -> None:
    accepted = {"CVE-1": {"id": "CVE-1", "package": "Jinja2", "reason": "sandbox unused"}}
    open_, known, _ = findings(REPORT, accepted)
    assert open_ == ["requests 2.0.0: PYSEC-1 (fixed in no release yet)"]
    assert known == ["jinja2 3.0.0: GHSA-aaaa (fixed in 3.1.5) — accepted: sandbox unused"]
    other = {"PYSEC-1": {"id": "PYSEC-1", "package": "urllib3", "reason": "wrong package"}}
    assert len(findings(REPORT, other)[0]) == 2


def test_the_project_decisions_file_reads_and_a_decision_needs_a_reason(tmp_path: Path) -> None:
    assert isinstance(decisions(DECISIONS), dict)
    bad = tmp_path / "decisions.toml"
    bad.write_text('[[decision]]\nid = "GHSA-x"\npackage = "p"\n')
    with pytest.raises(SystemExit, match="reason"):
        decisions(bad)
