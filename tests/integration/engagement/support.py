"""Helpers of the engagement integration tests (fixtures are in ``conftest.py``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import ImportantDateUpcomingV1, OrderPlacedV1, SegmentMemberAddedV1

from ...support import eventually, publish

__all__ = [
    "birthday",
    "customer",
    "messages_of",
    "order_placed",
    "redeliver",
    "segment_member",
    "template",
    "trigger",
    "wait_consent",
    "wait_status",
]


async def customer(customers_api: httpx.AsyncClient, *, consent: bool = True, **fields: Any) -> dict:
    body = {
        "kind": "person",
        "given_name": "Ada",
        "family_name": "Zaangażowana",
        "email": f"ada-{uuid.uuid4().hex[:12]}@example.com",
        **fields,
    }
    created = await customers_api.post("/api/v1/customers", json=body)
    assert created.status_code == 201, created.text
    record = created.json()
    if consent:
        granted = await customers_api.post(
            f"/api/v1/customers/{record['id']}/consents",
            json={"purpose": "email_marketing", "status": "granted", "source": "web-form"},
        )
        assert granted.status_code == 201, granted.text
    return record


async def wait_consent(api: httpx.AsyncClient, customer_id: str, granted: bool, timeout: float = 60) -> None:
    """Until the engagement service's projection holds the customer's e-mail consent as ``granted``."""

    async def seen() -> bool | None:
        part = await api.get(f"/api/v1/engagement/customers/{customer_id}")
        return True if part.status_code == 200 and part.json()["consents"].get("email_marketing") is granted else None

    await eventually(seen, timeout=timeout)


async def template(api: httpx.AsyncClient, *, body: str = "Hello {{ customer.given_name }}!", **fields: Any) -> dict:
    payload = {
        "name": "t-" + uuid.uuid4().hex[:8],
        "channel": "email",
        "purpose": "marketing",
        "fallback_language": "en",
        "variants": [{"language": "en", "subject": "For you, {{ customer.given_name }}", "body": body}],
        **fields,
    }
    created = await api.post("/api/v1/engagement/templates", json=payload)
    assert created.status_code == 201, created.text
    return created.json()


# Triggers a test made: disabled after it (conftest), so another test's events never fire them.
MADE_TRIGGERS: list[str] = []


async def trigger(api: httpx.AsyncClient, template_id: str, **fields: Any) -> dict:
    payload = {
        "name": "tr-" + uuid.uuid4().hex[:8],
        "event": "important_date.upcoming",
        "conditions": {"important_date_kinds": ["birthday"]},
        "channel": "email",
        "template_id": template_id,
        "enabled": True,
        **fields,
    }
    created = await api.post("/api/v1/engagement/triggers", json=payload)
    assert created.status_code == 201, created.text
    MADE_TRIGGERS.append(created.json()["id"])
    return created.json()


def birthday(
    customer_id: str, *, important_date_id: uuid.UUID | None = None, year: int = 2026
) -> ImportantDateUpcomingV1:
    return ImportantDateUpcomingV1(
        customer_id=uuid.UUID(customer_id),
        important_date_id=important_date_id or uuid.uuid4(),
        kind="birthday",
        occurs_on=date(year, 12, 24),
        days_ahead=3,
    )


def segment_member(customer_id: str, segment_id: uuid.UUID) -> SegmentMemberAddedV1:
    return SegmentMemberAddedV1(
        customer_id=uuid.UUID(customer_id),
        segment_id=segment_id,
        segment_name="engagement test",
        trigger="event",
        occurred_at=datetime.now(UTC),
    )


def order_placed(customer_id: str, total: str, currency: str = "PLN") -> OrderPlacedV1:
    amount = Decimal(total)
    return OrderPlacedV1(
        customer_id=uuid.UUID(customer_id),
        order_id=uuid.uuid4(),
        order_number="E-" + uuid.uuid4().hex[:8],
        status="placed",
        channel="web",
        placed_at=datetime.now(UTC),
        currency=currency,
        gross_amount=amount,
        tax_amount=Decimal("0"),
        total_amount=amount,
        returned_amount=Decimal("0"),
        refunded_amount=Decimal("0"),
        net_amount=amount,
        cost_amount=None,
        margin=None,
        occurred_at=datetime.now(UTC),
    )


async def redeliver(producer: AIOKafkaProducer, event: CloudEvent, payload: Any) -> None:
    """The same event again (same id), as a broker redelivers it after a consumer crash."""
    await producer.send_and_wait(
        payload.topic.name,
        value=payload.model_dump_json().encode(),
        key=event.subject.encode(),
        headers=to_kafka_headers(event),
    )


async def messages_of(api: httpx.AsyncClient, **query: str) -> list[dict]:
    listed = await api.get("/api/v1/engagement/messages", params={**query, "limit": 500})
    assert listed.status_code == 200, listed.text
    return list(listed.json()["items"])


async def wait_status(api: httpx.AsyncClient, timeout: float = 90, count: int = 1, **query: str) -> list[dict]:
    """Until ``count`` messages match ``query`` (e.g. customer_id=..., status="sent")."""

    async def found() -> list[dict] | None:
        items = await messages_of(api, **query)
        return items if len(items) >= count else None

    return await eventually(found, timeout=timeout)


__all__ += ["publish"]
