"""Leads: a customer registered as a lead or contributed by a partner becomes a lead here;
conversion is idempotent (also concurrent) and moves the customer to ``prospect`` through
the customers service."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import PartnerLeadContributedV1
from relacja_devstack import StackConfig

from ...support import eventually, publish
from .support import MANAGER, as_caller, create_pipeline, new_customer, problem, sales_events


async def lead_arrives(api: httpx.AsyncClient, customer: uuid.UUID) -> dict:
    async def known() -> dict | None:
        response = await api.get(f"/api/v1/sales/leads/{customer}", headers=MANAGER)
        return response.json() if response.status_code == 200 else None

    return await eventually(known, timeout=60)


async def test_conversion_is_idempotent_and_makes_the_customer_a_prospect(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    pipeline = await create_pipeline(api)
    customer = await new_customer(lifecycle_stage="lead")
    lead = await lead_arrives(api, customer)
    assert lead["status"] == "open" and lead["source"] == "manual"
    rep = as_caller("rep-lena", team="north")
    problem(await api.get(f"/api/v1/sales/leads/{customer}", headers=rep), 404)  # unassigned: managers only
    assigned = await api.post(f"/api/v1/sales/leads/{customer}/assign", json={"owner_id": "rep-lena"}, headers=MANAGER)
    assert assigned.status_code == 200 and assigned.json()["owner_id"] == "rep-lena"

    body = {"pipeline_id": pipeline["id"], "amount": "2500.00", "currency": "PLN", "name": "First deal"}
    answers = await asyncio.gather(
        *(api.post(f"/api/v1/sales/leads/{customer}/convert", json=body, headers=rep) for _ in range(4))
    )
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201], [a.text for a in answers]
    assert len({a.json()["opportunity_id"] for a in answers}) == 1
    later = await api.post(f"/api/v1/sales/leads/{customer}/convert", json=body | {"amount": "1.00"}, headers=rep)
    assert later.status_code == 200 and later.json()["opportunity_id"] == answers[0].json()["opportunity_id"]
    deal = later.json()["opportunity"]
    assert deal["owner_id"] == "rep-lena" and deal["amount"] == "2500.00" and deal["source"] == "manual"
    assert later.json()["lead"]["status"] == "converted"
    assert await db.fetchval("SELECT count(*) FROM opportunities WHERE customer_id = $1", customer) == 1
    kinds = [kind for kind, _ in await sales_events(db, "customer_id", str(customer))]
    assert kinds.count("lead.converted.v1") == 1 and kinds.count("opportunity.created.v1") == 1

    async with httpx.AsyncClient(base_url=StackConfig.for_profile("test").service_url("customers"), timeout=20) as c:

        async def prospect() -> bool:
            return (await c.get(f"/api/v1/customers/{customer}")).json()["lifecycle_stage"] == "prospect"

        await eventually(prospect, timeout=60)


async def test_a_partner_lead_arrives_with_the_partner_as_its_source(
    api: httpx.AsyncClient, producer: AIOKafkaProducer
) -> None:
    customer, partner = uuid.uuid4(), uuid.uuid4()
    now = datetime.now(UTC)
    payload = PartnerLeadContributedV1.model_validate(
        {
            "contribution_id": uuid.uuid4(),
            "partner_id": partner,
            "partner_name": "Acme Logistics",
            "agreement_id": uuid.uuid4(),
            "agreement_version": 1,
            "customer_id": customer,
            "received_at": now,
            "occurred_at": now,
            "lead": {"name": "Ola Nowak", "email": f"ola.{uuid.uuid4().hex[:6]}@example.com", "note": "wants a quote"},
        }
    )
    await publish(producer, payload, source="/relacja/sharing")
    lead = await lead_arrives(api, customer)
    assert lead["source"] == "partner" and lead["partner_id"] == str(partner) and lead["status"] == "open"
    # The customers service registers the lead too; its registration does not overwrite the source.
    await asyncio.sleep(2)
    assert (await api.get(f"/api/v1/sales/leads/{customer}", headers=MANAGER)).json()["source"] == "partner"
