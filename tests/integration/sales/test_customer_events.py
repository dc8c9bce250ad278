"""The ``sales.projection`` consumer: customer merges re-key deals, activities and leads;
erasure clears free text and stops new deals; a logged call reaches the customer's timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import CustomerErasedV1, CustomersMergedV1
from relacja_devstack import StackConfig

from ...support import applied, eventually, publish
from .support import MANAGER, as_caller, create_pipeline, new_customer, open_deal, problem

REP = as_caller("rep-merge", team="west")


async def test_merge_rekeys_deals_activities_and_the_lead(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    pipeline = await create_pipeline(api)
    survivor, merged = await new_customer(), await new_customer(lifecycle_stage="lead")
    deal = await open_deal(api, pipeline, REP, customer_id=merged)
    activity = await api.post(
        "/api/v1/sales/activities", json={"kind": "to_do", "customer_id": str(merged)}, headers=REP
    )
    assert activity.status_code == 201, activity.text

    async def lead_known() -> bool:
        return (await api.get(f"/api/v1/sales/leads/{merged}", headers=MANAGER)).status_code == 200

    await eventually(lead_known, timeout=60)
    event = await publish(
        producer, CustomersMergedV1(customer_id=survivor, merged_customer_id=merged, merged_at=datetime.now(UTC))
    )

    async def done() -> bool:
        return await applied(db, "sales.projection", event.id)

    await eventually(done, timeout=60)
    assert (await api.get(f"/api/v1/sales/opportunities/{deal['id']}", headers=REP)).json()["customer_id"] == str(
        survivor
    )
    assert (await api.get(f"/api/v1/sales/activities/{activity.json()['id']}", headers=REP)).json()[
        "customer_id"
    ] == str(survivor)
    assert (await api.get(f"/api/v1/sales/leads/{survivor}", headers=MANAGER)).status_code == 200
    problem(await api.get(f"/api/v1/sales/leads/{merged}", headers=MANAGER), 404)
    again = await api.post(
        "/api/v1/sales/opportunities",
        json={"customer_id": str(merged), "pipeline_id": pipeline["id"], "amount": "1.00", "currency": "PLN"},
        headers=REP,
    )
    assert problem(again, 422, "body.customer_id")["type"].endswith("customer-merged")


async def test_erasure_clears_free_text_and_stops_new_deals(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    pipeline = await create_pipeline(api)
    customer = await new_customer()
    key = uuid.uuid4().hex
    deal = await open_deal(
        api,
        pipeline,
        REP | {"Idempotency-Key": key},
        customer_id=customer,
        name="Kowalski renewal",
        next_step="Call Mrs Kowalska on her private number",
    )
    activity = await api.post(
        "/api/v1/sales/activities",
        json={"kind": "call", "customer_id": str(customer), "subject": "Ask about her divorce settlement"},
        headers=REP,
    )
    event = await publish(producer, CustomerErasedV1(customer_id=customer, erased_at=datetime.now(UTC)))

    async def done() -> bool:
        return await applied(db, "sales.projection", event.id)

    await eventually(done, timeout=60)
    erased = (await api.get(f"/api/v1/sales/opportunities/{deal['id']}", headers=REP)).json()
    assert erased["name"] is None and erased["next_step"] is None and erased["amount"] == deal["amount"]
    assert (await api.get(f"/api/v1/sales/activities/{activity.json()['id']}", headers=REP)).json()["subject"] is None
    stored = await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key)
    assert stored == 0
    again = await api.post(
        "/api/v1/sales/opportunities",
        json={"customer_id": str(customer), "pipeline_id": pipeline["id"], "amount": "1.00", "currency": "PLN"},
        headers=REP,
    )
    assert problem(again, 422, "body.customer_id")["type"].endswith("customer-erased")


async def test_a_completed_call_appears_on_the_customers_timeline(api: httpx.AsyncClient) -> None:
    customer = await new_customer()
    call = await api.post(
        "/api/v1/sales/activities",
        json={
            "kind": "call",
            "customer_id": str(customer),
            "due_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
            "duration_seconds": 420,
        },
        headers=REP,
    )
    assert call.status_code == 201, call.text
    todo = await api.post("/api/v1/sales/activities", json={"kind": "to_do", "customer_id": str(customer)}, headers=REP)
    for activity in (call.json(), todo.json()):
        assert (await api.post(f"/api/v1/sales/activities/{activity['id']}/complete", headers=REP)).status_code == 200

    async with httpx.AsyncClient(base_url=StackConfig.for_profile("test").service_url("customers"), timeout=20) as c:

        async def logged() -> list | None:
            response = await c.get(f"/api/v1/customers/{customer}/interactions")
            assert response.status_code == 200, response.text
            return response.json()["items"] or None

        items = await eventually(logged, timeout=60)
    assert [(i["id"], i["channel"], i["agent_id"], i["duration_seconds"]) for i in items] == [
        (call.json()["id"], "phone", "rep-merge", 420)
    ]  # the to-do is internal: not a contact with the customer
