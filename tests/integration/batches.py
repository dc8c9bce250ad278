"""Hand a service's consumer handlers one fetch of events, as the broker would, on the
service's real database — to test a batch handler's set-based path directly.

    events = [event_of(payload) for payload in payloads]
    await apply_fetch(stack, "tickets", handlers, events)              # one transaction, batch handlers
    await apply_fetch(stack, "tickets", handlers, events, group=other)  # a replay: a fresh inbox

``apply_fetch`` runs ``EventConsumer.process_batch`` (the consumer's own code: inbox rows,
runs of batch handlers) under a consumer group of its own, so the service's running
consumer and other tests never see these inbox rows. It fails if the fetch's transaction
failed and the consumer fell back to one event at a time: these tests are about the
batch path (the fallback is tested in tests/integration/test_consumer.py).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import ConsumerRecord
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_contracts import CloudEvent, EventPayload, to_kafka_headers
from relacja_contracts.events import CustomerErasedV1, CustomerRegisteredV1
from relacja_devstack import Stack
from relacja_messaging import EventConsumer, EventHandlers

__all__ = ["apply_fetch", "erased", "event_of", "new_group", "registered"]


def registered(
    customer_id: uuid.UUID | None = None, *, stage: str = "prospect", external_id: str | None = None, **fields: object
) -> CustomerRegisteredV1:
    return CustomerRegisteredV1.model_validate(
        {
            "customer_id": customer_id or uuid.uuid4(),
            "kind": "person",
            "display_name": "Batch Test",
            "lifecycle_stage": stage,
            "registered_at": datetime.now(UTC),
            "external_id": external_id,
            **fields,
        }
    )


def erased(customer_id: uuid.UUID) -> CustomerErasedV1:
    return CustomerErasedV1(customer_id=customer_id, erased_at=datetime.now(UTC))


def event_of(payload: EventPayload) -> tuple[CloudEvent, EventPayload]:
    return CloudEvent.for_payload(payload, source="/relacja/tests"), payload


def new_group(service: str) -> str:
    return f"{service}.batch-test-{uuid.uuid4().hex[:8]}"


class _FellBack(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "applying one by one" in record.getMessage():
            self.messages.append(record.getMessage())


async def apply_fetch(
    stack: Stack,
    service: str,
    handlers: EventHandlers,
    events: Sequence[tuple[CloudEvent, EventPayload]],
    *,
    group: str | None = None,
) -> str:
    """Apply ``events`` as one fetch of one partition (offsets in list order); the group used."""
    group = group or new_group(service)
    records = [
        ConsumerRecord(
            topic=payload.topic.name,
            partition=0,
            offset=offset,
            timestamp=0,
            timestamp_type=0,
            key=event.subject.encode(),
            value=payload.model_dump_json().encode(),
            checksum=None,
            serialized_key_size=-1,
            serialized_value_size=-1,
            headers=to_kafka_headers(event),
        )
        for offset, (event, payload) in enumerate(events)
    ]
    engine = create_async_engine(stack.database_url(service))
    watcher = _FellBack()
    consumer_log = logging.getLogger("relacja_messaging.consumer")
    consumer_log.addHandler(watcher)
    level = consumer_log.level
    consumer_log.setLevel(logging.INFO)
    try:
        consumer = EventConsumer(group, handlers, async_sessionmaker(engine, expire_on_commit=False), "unused:0")
        # A failing event would be retried and then dead-lettered through a producer this
        # consumer does not have: the timeout turns that into a failure instead of a hang.
        await asyncio.wait_for(consumer.process_batch(records), timeout=60)
    finally:
        consumer_log.setLevel(level)
        consumer_log.removeHandler(watcher)
        await engine.dispose()
    assert not watcher.messages, watcher.messages
    return group
