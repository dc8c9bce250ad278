"""``make run`` prints the consumers' backlog lines from the service logs (relacja_devstack.backlog)."""

from __future__ import annotations

import json
from pathlib import Path

from relacja_devstack.backlog import BACKLOG_LOGGER, BacklogLines


def _line(logger: str, message: str, time: str = "2026-12-05T15:00:07.123+00:00") -> str:
    return json.dumps({"level": "INFO", "logger": logger, "message": message, "service": "x", "time": time}) + "\n"


def test_only_new_backlog_lines_are_returned_and_a_line_being_written_waits(tmp_path: Path) -> None:
    orders, churn = tmp_path / "orders.log", tmp_path / "churn.log"
    orders.write_text(_line(BACKLOG_LOGGER, "orders.customers: old news"))
    lines = BacklogLines({"orders": orders, "churn": churn})  # churn's log does not exist yet
    assert lines.poll() == []
    with orders.open("a") as log:
        log.write(_line("uvicorn.error", "Application startup complete."))
        log.write(_line(BACKLOG_LOGGER, "orders.customers: digesting a backlog of 20000 events (3 s behind)"))
        partial = _line(BACKLOG_LOGGER, "orders.customers: caught up after 9 s", time="2026-12-05T15:00:16+00:00")
        log.write(partial[:20])
    churn.write_text(_line(BACKLOG_LOGGER, '{"not": "the message"}') + "not json " + BACKLOG_LOGGER + "\n")
    assert lines.poll() == [
        "15:00:07 orders: orders.customers: digesting a backlog of 20000 events (3 s behind)",
        '15:00:07 churn: {"not": "the message"}',
    ]
    with orders.open("a") as log:
        log.write(partial[20:])
    assert lines.poll() == ["15:00:16 orders: orders.customers: caught up after 9 s"]
    orders.write_text("")  # a fresh start empties the log
    assert lines.poll() == []
