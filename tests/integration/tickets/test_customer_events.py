"""The ``tickets.events`` consumer: customer merge (re-key), erasure (personal data dropped)
and placed orders (counted in the metrics), published on the real broker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import CustomerErasedV1, CustomersMergedV1, OrderPlacedV1

from ...support import applied, eventually, publish
from .support import act, new_customer, open_ticket, problem


def placed_order(customer_id: uuid.UUID, placed_at: datetime) -> OrderPlacedV1:
    return OrderPlacedV1.model_validate(
        {
            "customer_id": customer_id,
            "order_id": uuid.uuid4(),
            "order_number": f"N-{uuid.uuid4().hex[:6]}",
            "status": "placed",
            "channel": "web",
            "placed_at": placed_at,
            "currency": "PLN",
            "gross_amount": "10.00",
            "tax_amount": "2.30",
            "total_amount": "12.30",
            "returned_amount": "0.00",
            "refunded_amount": "0.00",
            "net_amount": "10.00",
            "cost_amount": None,
            "margin": None,
            "occurred_at": placed_at,
        }
    )


async def test_merge_rekeys_tickets_and_surveys(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    survivor, merged = await new_customer(), await new_customer()
    theirs = await open_ticket(api, customer_id=str(merged))
    mine = await open_ticket(api, customer_id=str(survivor))
    survey = (await act(api, theirs, "resolve")).json()["survey"]

    await publish(
        producer, CustomersMergedV1(customer_id=survivor, merged_customer_id=merged, merged_at=datetime.now(UTC))
    )

    async def rekeyed() -> bool:
        return await db.fetchval("SELECT customer_id FROM tickets WHERE id = $1", uuid.UUID(theirs["id"])) == survivor

    await eventually(rekeyed)
    assert await db.fetchval("SELECT customer_id FROM surveys WHERE id = $1", uuid.UUID(survey["id"])) == survivor
    listed = (await api.get("/api/v1/tickets", params={"customer_id": str(survivor)})).json()["items"]
    assert {t["id"] for t in listed} == {theirs["id"], mine["id"]}
    assert (await api.get("/api/v1/tickets", params={"customer_id": str(merged)})).json()["items"] == []
    # The survey answered after the merge is the survivor's.
    assert (await api.post(f"/api/v1/surveys/{survey['token']}", json={"score": 4})).status_code == 200
    summary = (await api.get(f"/api/v1/tickets/customers/{survivor}/summary")).json()
    assert summary["counts"]["total"] == 2 and summary["last_satisfaction"]["score"] == 4


async def test_erasure_drops_subjects_descriptions_comments_and_survey_comments(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    customer, bystander = await new_customer(), await new_customer()
    ticket = await open_ticket(
        api,
        {"Idempotency-Key": uuid.uuid4().hex},
        customer_id=str(customer),
        subject="Jan Kowalski, ul. Polna 1",
        description="Call me at 600 100 200",
    )
    other = await open_ticket(api, {"Idempotency-Key": uuid.uuid4().hex}, customer_id=str(bystander))
    for ticket_id in (ticket["id"], other["id"]):
        added = await api.post(
            f"/api/v1/tickets/{ticket_id}/comments",
            json={"body": "My PESEL is 90010112345", "public": True},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert added.status_code == 201
    stored_responses = (
        "SELECT count(*) FROM idempotency_keys WHERE response_body->>'customer_id' = $1 "
        "OR response_body->>'ticket_id' IN (SELECT id::text FROM tickets WHERE customer_id = $1::uuid)"
    )
    assert await db.fetchval(stored_responses, str(customer)) == 2
    resolved = (await act(api, (await api.get(f"/api/v1/tickets/{ticket['id']}")).json(), "resolve")).json()
    answered = await api.post(
        f"/api/v1/surveys/{resolved['survey']['token']}", json={"score": 2, "comment": "Jan here, not happy"}
    )
    assert answered.status_code == 200
    nps = (await api.post("/api/v1/surveys", json={"customer_id": str(customer)})).json()

    erased_at = datetime.now(UTC)
    await publish(producer, CustomerErasedV1(customer_id=customer, erased_at=erased_at))

    async def erased() -> dict | None:
        shown = (await api.get(f"/api/v1/tickets/{ticket['id']}")).json()
        return shown if shown["erased_at"] else None

    shown = await eventually(erased)
    assert shown["subject"] is None and shown["description"] is None and shown["status"] == "resolved"
    comments = (await api.get(f"/api/v1/tickets/{ticket['id']}/comments")).json()["items"]
    assert comments and all(c["body"] is None and c["erased_at"] for c in comments)
    assert await db.fetchval("SELECT comment FROM surveys WHERE id = $1", uuid.UUID(resolved["survey"]["id"])) is None
    assert (
        await db.fetchval("SELECT score FROM surveys WHERE id = $1", uuid.UUID(resolved["survey"]["id"])) == 2
    )  # not personal
    problem(await api.post(f"/api/v1/surveys/{nps['token']}", json={"score": 9}), 410, "survey-expired")
    problem(
        await api.patch(f"/api/v1/tickets/{ticket['id']}", json={"subject": "again"}, headers={"If-Match": "*"}),
        409,
        "customer-erased",
    )
    problem(
        await api.post(f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "Jan again", "public": True}),
        409,
        "customer-erased",
    )
    assert (
        await db.fetchval(stored_responses, str(customer)) == 0
    )  # the stored first responses held the subject and comment
    # Another customer's ticket is untouched.
    assert await db.fetchval(stored_responses, str(bystander)) == 2
    kept = (await api.get(f"/api/v1/tickets/{other['id']}/comments")).json()["items"]
    assert kept[0]["body"] == "My PESEL is 90010112345"
    assert (await api.get(f"/api/v1/tickets/{other['id']}")).json()["subject"] == other["subject"]


async def test_metrics_with_complaints_per_thousand_orders(
    api: httpx.AsyncClient, db: asyncpg.Connection, producer: AIOKafkaProducer
) -> None:
    # A day in the past no other test writes to: three tickets moved into it, four orders placed in it.
    # The 1930s: no other test places orders there (recommendations' evaluation fills 2001-2002 with
    # ~800 orders, which tickets counts too: a day drawn from 2001 onwards met one of them in CI).
    start = datetime(1930, 1, 1, tzinfo=UTC) + timedelta(days=uuid.uuid4().int % 3000)
    end = start + timedelta(days=1)
    customer = await new_customer()
    resolved = await open_ticket(api, customer_id=str(customer), type="complaint")
    resolved = (await act(api, resolved, "resolve")).json()
    answered = await open_ticket(api, customer_id=str(customer), type="complaint")
    waiting = await open_ticket(api, customer_id=str(customer), type="question")
    times = {resolved["id"]: (600, 3600), answered["id"]: (1200, None), waiting["id"]: (None, None)}
    for ticket_id, (first_response, resolution) in times.items():
        await db.execute(
            "UPDATE tickets SET opened_at = $2, first_response_seconds = $3, resolution_seconds = $4 WHERE id = $1",
            uuid.UUID(ticket_id),
            start + timedelta(hours=2),
            first_response,
            resolution,
        )
    for hour in range(4):
        await publish(producer, placed_order(customer, start + timedelta(hours=hour)))
    last = await publish(producer, placed_order(customer, end))  # the window's end is exclusive
    # The order at the end is the last of this customer's partition: once it is applied, all five are,
    # so a count of 4 below means it was left out (not merely not consumed yet).
    await eventually(lambda: applied(db, "tickets.events", last.id))
    metrics = (
        await api.get("/api/v1/tickets/metrics", params={"from": start.isoformat(), "to": end.isoformat()})
    ).json()
    assert metrics["orders"] == 4
    assert (metrics["from"], metrics["opened"], metrics["complaints"], metrics["backlog"]) == (
        start.isoformat().replace("+00:00", "Z"),
        3,
        2,
        2,
    )
    assert metrics["first_response"] == {"count": 2, "median_seconds": 900.0, "p90_seconds": 1140.0}
    assert metrics["resolution"] == {"count": 1, "median_seconds": 3600.0, "p90_seconds": 3600.0}
    assert metrics["complaints_per_1000_orders"] == 500.0
    assert metrics["with_sla"] == 0 and metrics["breach_rate"] is None
    problem(await api.get("/api/v1/tickets/metrics", params={"from": end.isoformat(), "to": start.isoformat()}), 400)
    problem(await api.get("/api/v1/tickets/metrics", params={"from": "yesterday", "to": end.isoformat()}), 400)
