"""Schemathesis with every check, the stateful phase included, for longer than CI's run.

The CI conformance test (tests/e2e/test_api_conformance.py) runs six checks over a few
examples per operation. Here: ``--checks all`` (adds response headers, required headers,
unsupported methods, Allow, use after free, resource availability, ignored auth and
object-level authorisation), the stateful phase (schemathesis chains operations through
the OpenAPI links: create, then read, change and delete what was created), and
``RELACJA_SECURITY_MAX_EXAMPLES`` examples per operation (default 25) within
``RELACJA_SECURITY_MAX_SECONDS`` (default 1800). Same configuration file and hooks as the
CI test, so the justified exceptions are written once. The partner API
(``/partner/openapi.json``, with a partner's API key) gets the same treatment for
``RELACJA_SECURITY_PARTNER_MAX_SECONDS`` (default 300): its few operations need far less.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from relacja_devstack import Stack
from tests.e2e.test_api_conformance import CONFIG, HOOKS, new_partner_api_key

pytestmark = [pytest.mark.stack, pytest.mark.fuzz]


def run_all_checks(
    stack: Stack,
    tmp_path: Path,
    *,
    document: str = "/openapi.json",
    credential: str | None = None,
    max_seconds: str | None = None,
    rate_limit: str | None = None,
    log_name: str = "schemathesis-all-checks.log",
) -> str:
    st = Path(sys.executable).with_name("st")
    command = [
        str(st),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{stack.gateway_url}{document}",
        "--url",
        stack.gateway_url,
        "--header",
        f"Authorization: Bearer {credential or stack.token(['admin'])}",
        "--checks",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("RELACJA_SECURITY_MAX_EXAMPLES", "25"),
        "--max-time",
        max_seconds or os.environ.get("RELACJA_SECURITY_MAX_SECONDS", "1800"),
        "--seed",
        os.environ.get("RELACJA_CONFORMANCE_SEED", "20261205"),
        "--workers",
        "1",  # see test_api_conformance.py: hypothesis' ast.parse is not thread-safe on 3.11
        "--request-timeout",
        "30",
        "--wait-for-schema",
        "30",
    ]
    if rate_limit is not None:
        command += ["--rate-limit", rate_limit]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=4000, cwd=tmp_path, env=environment)
    report = result.stdout + result.stderr
    (Path(stack.config.logs_dir) / log_name).write_text(report)
    assert result.returncode == 0, report[-30000:]
    return report


def test_every_check_and_the_stateful_phase_hold(stack: Stack, tmp_path: Path) -> None:
    report = run_all_checks(stack, tmp_path)
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 80, f"too few operations tested:\n{report[-5000:]}"


def test_every_check_and_the_stateful_phase_hold_for_the_partner_api(stack: Stack, tmp_path: Path) -> None:
    report = run_all_checks(
        stack,
        tmp_path,
        document="/partner/openapi.json",
        credential=new_partner_api_key(stack, "All-checks partner"),
        max_seconds=os.environ.get("RELACJA_SECURITY_PARTNER_MAX_SECONDS", "300"),
        # Below a partner's limit (20 requests a second), or most requests test only the limiter.
        rate_limit="15/s",
        log_name="schemathesis-all-checks-partner.log",
    )
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 4, f"too few operations tested:\n{report[-5000:]}"
