"""``emit``: the one way a live change writes an order event (outbox, caller's transaction),
and ``outbox_records``: the same rows for many imported orders at once (for COPY)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any, Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events.orders import OrderPlacedV1
from relacja_messaging import Outbox
from relacja_messaging.tracing import current_traceparent

from .settings import EVENT_SOURCE
from .snapshot import rfc3339, snapshot

__all__ = ["emit", "outbox_records", "OUTBOX_COLUMNS"]

_outbox = Outbox(EVENT_SOURCE)

OUTBOX_COLUMNS = ["event_id", "topic", "key", "event_type", "headers", "payload"]


async def emit(session: AsyncSession, model: type[Any], order: Mapping[str, Any], occurred_at: datetime, **extra: Any) -> None:
    """Write ``model`` (an order event class) about ``order`` as it now stands."""
    payload = model.model_validate(snapshot(order) | {"occurred_at": occurred_at} | extra)
    await _outbox.add(session, payload)


def outbox_records(orders: Iterable[Mapping[str, Any]], occurred_at: datetime) -> list[tuple[Any, ...]]:
    """``OrderPlacedV1`` outbox rows (in ``OUTBOX_COLUMNS`` order) for imported orders.

    The same row ``Outbox.add`` writes, built without a pydantic model per order: the
    envelope is ``CloudEvent`` + ``to_kafka_headers`` as there, the payload is ``snapshot``
    (a unit test checks it validates as ``OrderPlacedV1``).
    """
    traceparent = current_traceparent.get()
    topic, event_type = OrderPlacedV1.topic.name, OrderPlacedV1.event_type
    occurred = rfc3339(occurred_at)
    records = []
    for order in orders:
        event = CloudEvent(
            id=str(uuid.uuid4()), source=EVENT_SOURCE, type=event_type, subject=str(order["customer_id"]),
            time=occurred_at, traceparent=traceparent,
        )
        headers = [[name, value.decode()] for name, value in to_kafka_headers(event)]
        payload = snapshot(order) | {"occurred_at": occurred}
        records.append((uuid.UUID(event.id), topic, event.subject, event_type, json.dumps(headers), json.dumps(payload)))
    return records
