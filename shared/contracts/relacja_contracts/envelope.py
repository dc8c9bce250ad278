"""The CloudEvents 1.0 envelope and its Kafka protocol binding (binary content mode).

https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md

In binary mode the event attributes travel as Kafka headers prefixed ``ce_`` and the
record value is the bare JSON payload, so a consumer that only needs the type can route
without parsing the body. ``content-type`` carries ``datacontenttype``; the W3C
``traceparent`` travels beside them when the event was caused by a traced request.

``ce_time`` has one text form, whoever writes it (``format_time``; the outbox's set-based
SQL path writes the same, ``relacja_messaging.outbox``): RFC 3339 in UTC with exactly six
fraction digits and ``Z`` — ``2026-11-22T12:00:00.000000Z``. A fixed width sorts as text
and needs no special case for a whole second; ``datetime.fromisoformat`` reads it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .base import EventPayload

__all__ = ["CloudEvent", "EnvelopeError", "to_kafka_headers", "from_kafka_headers", "format_time"]

SPEC_VERSION = "1.0"
JSON = "application/json"
_REQUIRED = ("ce_id", "ce_source", "ce_type", "ce_specversion")


class EnvelopeError(ValueError):
    """A Kafka record whose headers are not a valid CloudEvents envelope."""


@dataclass(frozen=True)
class CloudEvent:
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    specversion: str = SPEC_VERSION
    datacontenttype: str = JSON
    traceparent: str | None = field(default=None)

    @classmethod
    def for_payload(cls, payload: EventPayload, *, source: str, traceparent: str | None = None) -> CloudEvent:
        """A fresh envelope for ``payload``: new id, current UTC time, subject = customer id."""
        return cls(
            id=str(uuid.uuid4()),
            source=source,
            type=payload.event_type,
            subject=payload.subject(),
            time=datetime.now(UTC),
            traceparent=traceparent,
        )


def to_kafka_headers(event: CloudEvent) -> list[tuple[str, bytes]]:
    headers = [
        ("ce_specversion", event.specversion),
        ("ce_id", event.id),
        ("ce_source", event.source),
        ("ce_type", event.type),
        ("ce_subject", event.subject),
        ("ce_time", format_time(event.time)),
        ("content-type", event.datacontenttype),
    ]
    if event.traceparent:
        headers.append(("traceparent", event.traceparent))
    return [(name, value.encode()) for name, value in headers]


def from_kafka_headers(headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]) -> CloudEvent:
    values = {name: value.decode("utf-8", errors="replace") for name, value in headers if value is not None}
    missing = [name for name in _REQUIRED if not values.get(name)]
    if missing:
        raise EnvelopeError(f"not a CloudEvents record: missing header(s) {', '.join(missing)}")
    if values["ce_specversion"] != SPEC_VERSION:
        raise EnvelopeError(f"unsupported CloudEvents specversion {values['ce_specversion']!r}")
    try:
        time = datetime.fromisoformat(values["ce_time"]) if values.get("ce_time") else datetime.now(UTC)
    except ValueError as exc:
        raise EnvelopeError(f"ce_time is not an RFC 3339 timestamp: {values['ce_time']!r}") from exc
    return CloudEvent(
        id=values["ce_id"],
        source=values["ce_source"],
        type=values["ce_type"],
        subject=values.get("ce_subject", ""),
        time=time,
        specversion=values["ce_specversion"],
        datacontenttype=values.get("content-type", JSON),
        traceparent=values.get("traceparent"),
    )


def format_time(moment: datetime) -> str:
    """The ``ce_time`` text of ``moment``: RFC 3339, UTC, microseconds, ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
