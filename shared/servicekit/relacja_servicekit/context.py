"""The request id and W3C trace context of the request being handled.

Set by the request middleware, read by the logger (every line carries the request id)
and by the outbox (events carry the traceparent); plus the access-log fields an app adds.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

from relacja_messaging.tracing import current_traceparent

__all__ = ["access_log_fields", "current_request_id", "current_traceparent", "continue_trace", "valid_request_id"]

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)

#: Extra fields for this request's access-log line, filled in by the app while it handles
#: the request (the gateway adds principal and upstream). The request middleware sets a
#: fresh dict per request; a ``route`` entry replaces the route template as the log's and
#: the metrics' route (the gateway's catch-all template says nothing).
access_log_fields: ContextVar[dict[str, object] | None] = ContextVar("access_log_fields", default=None)

# https://www.w3.org/TR/trace-context/#traceparent-header-field-values
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def valid_request_id(value: str | None) -> str | None:
    """A caller's X-Request-ID if it is safe to log and echo, else None (a new one is made)."""
    return value if value and _REQUEST_ID.match(value) else None


def continue_trace(incoming: str | None) -> str:
    """The traceparent for this hop: same trace id, a new span id; a new trace if none came."""
    match = _TRACEPARENT.match(incoming or "")
    trace_id = match.group(1) if match and match.group(1) != "0" * 32 else secrets.token_hex(16)
    flags = match.group(3) if match else "01"
    return f"00-{trace_id}-{secrets.token_hex(8)}-{flags}"
