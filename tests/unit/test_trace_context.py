"""W3C trace context continuation and X-Request-ID acceptance."""

from __future__ import annotations

import re

from relacja_servicekit.context import continue_trace, valid_request_id

_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def test_incoming_trace_is_continued_with_a_new_span() -> None:
    incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    outgoing = continue_trace(incoming)
    assert outgoing.startswith("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    assert outgoing != incoming and _TRACEPARENT.match(outgoing)


def test_missing_or_invalid_trace_starts_a_new_one() -> None:
    for incoming in (None, "", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01"):
        outgoing = continue_trace(incoming)
        assert _TRACEPARENT.match(outgoing)
        assert not outgoing.startswith("00-" + "0" * 32)


def test_request_ids_are_accepted_only_when_safe_to_log() -> None:
    assert valid_request_id("abc-123_x.y:z") == "abc-123_x.y:z"
    assert valid_request_id("bad id with spaces") is None
    assert valid_request_id("x" * 129) is None
    assert valid_request_id(None) is None
