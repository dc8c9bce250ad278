"""Partners' contributions reach the customer master: the customers service consumes
``relacja.sharing`` (published here as the sharing service's relay would) — an interaction
on the customer's timeline with the partner as its source, a lead as a new customer in
stage ``lead``. The sharing side (the API that writes these events) is tested in
tests/integration/sharing/test_contributions.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.events import PartnerInteractionContributedV1, PartnerLeadContributedV1
from relacja_contracts.events.sharing import ContributedInteraction, ContributedLead

from ...support import applied, eventually, publish
from .support import CUSTOMERS_PATH, create, marker, unique_phone

CONSUMER = "customers.lifecycle"
PARTNER_ID = uuid.uuid4()
AGREEMENT_ID = uuid.uuid4()


def contributed_interaction(customer_id: str, contribution_id: uuid.UUID) -> PartnerInteractionContributedV1:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    return PartnerInteractionContributedV1(
        contribution_id=contribution_id,
        partner_id=PARTNER_ID,
        partner_name="Szybka Paczka sp. z o.o.",
        agreement_id=AGREEMENT_ID,
        agreement_version=2,
        customer_id=uuid.UUID(customer_id),
        received_at=datetime.now(UTC),
        occurred_at=at,
        interaction=ContributedInteraction(
            kind="delivery_attempt",
            channel="visit",
            direction="outbound",
            summary="Nobody at home; card left.",
            occurred_at=at,
            duration_seconds=120,
        ),
    )


def contributed_lead(
    customer_id: uuid.UUID, contribution_id: uuid.UUID, *, email: str | None, note: str | None = "Wants a quote."
) -> PartnerLeadContributedV1:
    now = datetime.now(UTC)
    return PartnerLeadContributedV1(
        contribution_id=contribution_id,
        partner_id=PARTNER_ID,
        partner_name="Reseller Północ",
        agreement_id=AGREEMENT_ID,
        agreement_version=1,
        customer_id=customer_id,
        received_at=now,
        occurred_at=now,
        lead=ContributedLead(
            name=f"Prospekt {marker()}", email=email, phone=unique_phone(), company="Huta Szkła SA", note=note
        ),
    )


async def timeline_of(api: httpx.AsyncClient, customer_id: str) -> list[dict]:
    response = await api.get(f"{CUSTOMERS_PATH}/{customer_id}/timeline")
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_contributed_interaction_is_on_the_timeline_once_with_the_partner_as_source(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection
) -> None:
    customer = await create(api, display_name="Ewa Odbiorczyni")
    contribution_id = uuid.uuid4()
    first = await publish(producer, contributed_interaction(customer["id"], contribution_id))
    await eventually(lambda: applied(db, CONSUMER, first.id))
    # The same contribution again under another event id (a producer that re-sent it):
    # the contribution id is the interaction id, so nothing is added twice.
    again = await publish(producer, contributed_interaction(customer["id"], contribution_id))
    await eventually(lambda: applied(db, CONSUMER, again.id))

    items = [item for item in await timeline_of(api, customer["id"]) if item["kind"] == "interaction"]
    assert [item["id"] for item in items] == [str(contribution_id)]
    interaction = items[0]["interaction"]
    assert interaction["channel"] == "visit"
    assert interaction["direction"] == "outbound"
    assert interaction["subject"] == "Delivery attempt — Szybka Paczka sp. z o.o."
    assert interaction["body"] == "Nobody at home; card left."
    assert interaction["duration_seconds"] == 120
    assert interaction["source"] == {
        "type": "partner",
        "partner_id": str(PARTNER_ID),
        "partner_name": "Szybka Paczka sp. z o.o.",
        "agreement_id": str(AGREEMENT_ID),
        "contribution_id": str(contribution_id),
        "activity": "delivery_attempt",
    }
    logged = await db.fetchval(
        "SELECT count(*) FROM customer_event_log WHERE event_type = 'relacja.customers.interaction.logged.v1'"
        " AND payload->>'interaction_id' = $1",
        str(contribution_id),
    )
    assert logged == 1
    # Staff-logged interactions have no source.
    staff = await api.post(
        f"{CUSTOMERS_PATH}/{customer['id']}/interactions", json={"channel": "phone", "direction": "inbound"}
    )
    assert staff.status_code == 201, staff.text
    assert staff.json()["source"] is None


async def test_a_contribution_about_an_erased_or_unknown_customer_records_nothing(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection
) -> None:
    customer = await create(api, display_name="Ernest Usunięty")
    assert (await api.post(f"{CUSTOMERS_PATH}/{customer['id']}/erase")).status_code == 200
    about_unknown = uuid.uuid4()
    erased = await publish(producer, contributed_interaction(customer["id"], uuid.uuid4()))
    unknown = await publish(producer, contributed_interaction(str(uuid.uuid4()), about_unknown))
    await eventually(lambda: applied(db, CONSUMER, erased.id))
    await eventually(lambda: applied(db, CONSUMER, unknown.id))
    assert not [item for item in await timeline_of(api, customer["id"]) if item["kind"] == "interaction"]
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE id = $1", about_unknown) == 0


async def test_a_contributed_lead_becomes_a_new_customer_in_stage_lead_once(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection
) -> None:
    lead_id, contribution_id = uuid.uuid4(), uuid.uuid4()
    email = f"{marker('lead')}@example.com"
    payload = contributed_lead(lead_id, contribution_id, email=email)
    first = await publish(producer, payload)
    await eventually(lambda: applied(db, CONSUMER, first.id))
    again = await publish(producer, payload)
    await eventually(lambda: applied(db, CONSUMER, again.id))

    response = await api.get(f"{CUSTOMERS_PATH}/{lead_id}")
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["kind"] == "person"
    assert record["lifecycle_stage"] == "lead"
    assert record["display_name"] == payload.lead.name
    assert record["email"] == email
    assert record["phone"] == payload.lead.phone
    assert record["custom_attributes"] == {"company": {"type": "string", "value": "Huta Szkła SA"}}
    assert record["version"] == 1
    assert record["source"] == {
        "type": "partner",
        "partner_id": str(PARTNER_ID),
        "partner_name": "Reseller Północ",
        "agreement_id": str(AGREEMENT_ID),
        "contribution_id": str(contribution_id),
        "activity": None,
    }
    items = await timeline_of(api, str(lead_id))
    notes = [item["interaction"] for item in items if item["kind"] == "interaction"]
    assert [(n["id"], n["channel"], n["subject"], n["body"]) for n in notes] == [
        (str(contribution_id), "note", "Lead registered by Reseller Północ", "Wants a quote.")
    ]
    registered = [item for item in items if item["kind"] == "event"]
    assert [item["event_type"] for item in registered] == ["relacja.customers.customer.registered.v1"]


async def test_a_lead_someone_already_is_becomes_a_note_on_that_customer(
    api: httpx.AsyncClient, producer: AIOKafkaProducer, db: asyncpg.Connection
) -> None:
    email = f"{marker('known')}@example.com"
    known = await create(api, display_name="Znana Klientka", email=email)
    lead_id, contribution_id = uuid.uuid4(), uuid.uuid4()
    event = await publish(producer, contributed_lead(lead_id, contribution_id, email=email, note=None))
    await eventually(lambda: applied(db, CONSUMER, event.id))

    assert (await api.get(f"{CUSTOMERS_PATH}/{lead_id}")).status_code == 404
    after = (await api.get(f"{CUSTOMERS_PATH}/{known['id']}")).json()
    assert after["version"] == known["version"]  # the record itself is not changed
    assert after["source"] is None
    items = await timeline_of(api, known["id"])
    notes = [item["interaction"] for item in items if item["kind"] == "interaction"]
    assert len(notes) == 1 and notes[0]["id"] == str(contribution_id)
    assert notes[0]["source"]["partner_id"] == str(PARTNER_ID)
    assert f"email: {email}" in notes[0]["body"]
    merged = [item["payload"] for item in items if item["kind"] == "event" and "merged" in item["event_type"]]
    assert merged == [
        {"customer_id": known["id"], "merged_customer_id": str(lead_id), "merged_at": merged[0]["merged_at"]}
    ]
