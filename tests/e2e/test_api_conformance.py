"""The merged OpenAPI tells the truth: schemathesis against the whole suite through the gateway.

Runs the schemathesis CLI (``st run``) on the test stack's ``/openapi.json`` with an
admin token, and on ``/partner/openapi.json`` with a partner's API key, with the checks
the service-shape issue names:

    not_a_server_error           nothing a client sends produces a 5xx
    status_code_conformance      every status answered is declared for the operation
    content_type_conformance     every answer has a declared media type
    response_schema_conformance  every body matches its declared schema
    negative_data_rejection      a request that breaks the schema is refused (4xx)
    positive_data_acceptance     a request that fits the schema is not refused as invalid

The run is bounded (a few examples per operation; ``RELACJA_CONFORMANCE_MAX_EXAMPLES``)
and seeded, so CI repeats the same cases; set ``RELACJA_CONFORMANCE_SEED`` to explore
others. The justified exceptions live in ``schemathesis.toml`` beside this file, and
``schemathesis_hooks.py`` makes each generated request carry a fresh Idempotency-Key.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from relacja_devstack import Stack

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)

CONFIG = Path(__file__).with_name("schemathesis.toml")
HOOKS = Path(__file__).with_name("schemathesis_hooks.py")


def _schemathesis(stack: Stack, tmp_path: Path, document: str, credential: str, log_name: str) -> str:
    """Run ``st`` over ``document`` with ``credential``; the report (also written to the
    stack's logs as ``log_name``), after asserting the run passed."""
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
        f"Authorization: Bearer {credential}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        os.environ.get("RELACJA_CONFORMANCE_MAX_EXAMPLES", "5"),
        "--seed",
        os.environ.get("RELACJA_CONFORMANCE_SEED", "20261205"),
        # One worker: hypothesis describes filter lambdas with ast.parse, which CPython 3.11
        # does not guard across threads ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--wait-for-schema",
        "30",
    ]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS)}
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path, env=environment)
    report = result.stdout + result.stderr
    (Path(stack.config.logs_dir) / log_name).write_text(report)
    assert result.returncode == 0, report[-20000:]
    return report


@pytest.mark.fuzz
def test_the_merged_openapi_holds_for_every_operation(stack: Stack, tmp_path: Path) -> None:
    report = _schemathesis(stack, tmp_path, "/openapi.json", stack.token(["admin"]), "schemathesis.log")
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 80, f"too few operations tested:\n{report[-5000:]}"


def new_partner_api_key(stack: Stack, legal_name: str) -> str:
    """A new partner's API key, issued by staff through the gateway."""
    admin = {"Authorization": f"Bearer {stack.token(['admin'])}"}
    with httpx.Client(base_url=stack.gateway_url, headers=admin, timeout=30) as staff:
        partner = staff.post("/api/v1/sharing/partners", json={"legal_name": legal_name})
        assert partner.status_code == 201, partner.text
        key = staff.post(f"/api/v1/sharing/partners/{partner.json()['id']}/keys", json={"label": "schemathesis"})
        assert key.status_code == 201, key.text
    return str(key.json()["api_key"])


@pytest.mark.fuzz
def test_the_partner_openapi_holds_for_every_operation(stack: Stack, tmp_path: Path) -> None:
    """The same checks over /partner/openapi.json with a partner's API key (staff issue it)."""
    api_key = new_partner_api_key(stack, "Conformance partner")
    report = _schemathesis(stack, tmp_path, "/partner/openapi.json", api_key, "schemathesis-partner.log")
    tested = re.search(r"Tested: (\d+)", report)
    assert tested and int(tested.group(1)) >= 4, f"too few operations tested:\n{report[-5000:]}"
