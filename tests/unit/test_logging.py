"""Structured logs: one JSON object per line, carrying the request id."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from relacja_servicekit.context import current_request_id
from relacja_servicekit.logging import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_log_lines_are_json_with_request_id_service_and_utc_time(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("customers", "INFO")
    token = current_request_id.set("req-7")
    try:
        logging.getLogger("relacja.test").info("customer created", extra={"customer_id": "c-1"})
    finally:
        current_request_id.reset(token)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["message"] == "customer created"
    assert line["request_id"] == "req-7"
    assert line["service"] == "customers"
    assert line["customer_id"] == "c-1"
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")
