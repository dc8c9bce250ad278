"""The W3C trace context that flows request → outbox event → consumer → next event.

The HTTP middleware sets ``current_traceparent`` for the request; ``Outbox.add`` copies it
into the event's ``traceparent`` header; the consumer sets it again while a handler runs,
so events a handler emits continue the same trace.
https://www.w3.org/TR/trace-context/#traceparent-header
"""

from __future__ import annotations

from contextvars import ContextVar

__all__ = ["current_traceparent"]

current_traceparent: ContextVar[str | None] = ContextVar("current_traceparent", default=None)
