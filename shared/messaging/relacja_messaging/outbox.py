"""The transactional outbox: an event is written through the caller's own session.

    async with session.begin():
        session.add(customer)
        await outbox.add(session, CustomerRegisteredV1(...))

Both rows commit together or not at all; nothing here talks to Kafka. The relay
publishes the row later, keyed by the payload's subject (the customer id).
"""

from __future__ import annotations

import uuid

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload, to_kafka_headers

from .tables import outbox_events
from .tracing import current_traceparent

__all__ = ["Outbox"]


class Outbox:
    def __init__(self, source: str) -> None:
        """``source`` is the CloudEvents source of everything this service emits, e.g. ``/relacja/customers``."""
        self.source = source

    async def add(self, session: AsyncSession, payload: EventPayload) -> CloudEvent:
        event = CloudEvent.for_payload(payload, source=self.source, traceparent=current_traceparent.get())
        await session.execute(insert(outbox_events).values(**self.row(event, payload)))
        return event

    @staticmethod
    def row(event: CloudEvent, payload: EventPayload) -> dict[str, object]:
        """The outbox row for ``event`` (also used by bulk writers that insert many rows at once)."""
        return {
            "event_id": uuid.UUID(event.id),
            "topic": payload.topic.name,
            "key": event.subject,
            "event_type": event.type,
            "headers": [[name, value.decode()] for name, value in to_kafka_headers(event)],
            "payload": payload.model_dump(mode="json"),
        }
