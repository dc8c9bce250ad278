"""Inbound contributions end to end against the real PostgreSQL and broker: a customer is
registered in the customers service and disclosed to a partner through its feed; the
partner contributes an interaction about it by the identifier it was given, and a lead;
the customers service shows the interaction on the customer's timeline and the lead as a
new customer in stage ``lead``. Bad contributions are refused naming the field, and
nothing of them is written. (The gateway's headers are set by hand, as the gateway would.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from relacja_devstack import Stack

from ...support import eventually, service_client
from .support import act, as_partner, new_partner
from .support import new_agreement as _new_agreement

INTERACTION = "relacja.sharing.interaction.contributed.v1"
LEAD = "relacja.sharing.lead.contributed.v1"
REGISTERED = "relacja.customers.customer.registered.v1"


@pytest.fixture
async def customers(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(stack, "customers", timeout=30) as client:
        yield client


async def new_agreement(api: httpx.AsyncClient, partner: dict[str, Any], **terms: Any) -> dict[str, Any]:
    """An active agreement that discloses new customers' names and takes contributions (unless ``terms`` say otherwise)."""
    allowed = {
        REGISTERED: ["display_name"],
        INTERACTION: ["summary", "duration_seconds"],
        LEAD: ["email", "phone", "company", "note"],
    }
    defaults = {"direction": "both", "legal_basis": "contract", "allowed_fields": allowed}
    return await _new_agreement(api, partner["id"], **(defaults | terms))


async def disclosed_identifier(
    api: httpx.AsyncClient, customers: httpx.AsyncClient, partner: dict[str, Any], agreement: dict[str, Any]
) -> tuple[str, str]:
    """A new customer of the customers service, and the identifier the partner got for it from its feed."""
    name = f"Klient {uuid.uuid4().hex[:8]}"
    created = await customers.post("/api/v1/customers", json={"kind": "person", "display_name": name})
    assert created.status_code == 201, created.text

    async def in_feed() -> str | None:
        page = await api.get(
            f"/partner/v1/feeds/{agreement['id']}/events", params={"limit": 1000}, headers=as_partner(partner["id"])
        )
        assert page.status_code == 200, page.text
        found = [r["subject"] for r in page.json()["items"] if r["data"].get("display_name") == name]
        return found[0] if found else None

    return created.json()["id"], await eventually(in_feed)


def interaction(agreement: dict[str, Any], customer_ref: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "interaction",
        "agreement_id": agreement["id"],
        "customer_ref": customer_ref,
        "kind": "delivery_attempt",
        "channel": "visit",
        "direction": "outbound",
        "occurred_at": (datetime.now(UTC) - timedelta(minutes=30)).isoformat(),
    } | fields


async def contribute(
    api: httpx.AsyncClient, partner: dict[str, Any], body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = as_partner(partner["id"]) | ({"Idempotency-Key": key} if key else {})
    return await api.post("/partner/v1/contributions", json=body, headers=headers)


async def timeline_interactions(customers: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    response = await customers.get(f"/api/v1/customers/{customer_id}/timeline")
    assert response.status_code == 200, response.text
    return [item["interaction"] for item in response.json()["items"] if item["kind"] == "interaction"]


async def test_an_interaction_by_the_identifier_the_partner_was_given_reaches_the_customers_timeline(
    api: httpx.AsyncClient, customers: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    partner = await new_partner(api, "Szybka Paczka sp. z o.o.")
    agreement = await new_agreement(api, partner)
    customer_id, identifier = await disclosed_identifier(api, customers, partner, agreement)
    assert identifier != customer_id  # a pseudonym, by default

    body = interaction(agreement, identifier, summary="Nobody at home; card left.", duration_seconds=90)
    key = f"attempt-{uuid.uuid4()}"
    first = await contribute(api, partner, body, key)
    assert first.status_code == 201, first.text
    contribution = first.json()
    assert first.headers["location"] == f"/partner/v1/contributions/{contribution['id']}"
    assert contribution["type"] == "interaction" and contribution["customer_ref"] == identifier
    assert contribution["agreement_version"] == agreement["version"]
    assert contribution["interaction"]["summary"] == "Nobody at home; card left."
    assert customer_id not in first.text  # the partner never learns the real id
    again = await contribute(api, partner, body, key)
    assert again.status_code == 201 and again.json() == contribution
    assert again.headers["idempotent-replayed"] == "true"
    rows = await db.fetch("SELECT customer_id FROM sharing_contributions WHERE partner_id = $1", partner["id"])
    assert [str(r["customer_id"]) for r in rows] == [customer_id]
    events = await db.fetch(
        "SELECT key, payload FROM outbox_events WHERE event_type = $1 AND payload->>'contribution_id' = $2",
        INTERACTION,
        contribution["id"],
    )
    assert [e["key"] for e in events] == [customer_id]  # keyed by the customer: ordered with its other events

    async def on_timeline() -> list[dict[str, Any]] | None:
        return [i for i in await timeline_interactions(customers, customer_id) if i["id"] == contribution["id"]] or None

    (logged,) = await eventually(on_timeline)
    assert logged["channel"] == "visit" and logged["direction"] == "outbound"
    assert logged["body"] == "Nobody at home; card left." and logged["duration_seconds"] == 90
    assert logged["subject"] == "Delivery attempt — Szybka Paczka sp. z o.o."
    assert logged["source"]["type"] == "partner" and logged["source"]["partner_id"] == partner["id"]
    assert logged["source"]["partner_name"] == "Szybka Paczka sp. z o.o."

    mine = await api.get(f"/partner/v1/contributions/{contribution['id']}", headers=as_partner(partner["id"]))
    assert mine.status_code == 200 and mine.json() == contribution
    listed = await api.get("/partner/v1/contributions", headers=as_partner(partner["id"]))
    assert [c["id"] for c in listed.json()["items"]] == [contribution["id"]]
    staff = (await api.get(f"/api/v1/sharing/contributions/{contribution['id']}")).json()
    assert staff["customer_id"] == customer_id and staff["partner_name"] == "Szybka Paczka sp. z o.o."
    by_customer = await api.get("/api/v1/sharing/contributions", params={"customer_id": customer_id})
    assert [c["id"] for c in by_customer.json()["items"]] == [contribution["id"]]

    # Another partner neither sees it nor can use the first partner's identifier or key.
    other = await new_partner(api, "Inny Kurier SA")
    other_agreement = await new_agreement(api, other)
    assert (
        await api.get(f"/partner/v1/contributions/{contribution['id']}", headers=as_partner(other["id"]))
    ).status_code == 404
    assert (await api.get("/partner/v1/contributions", headers=as_partner(other["id"]))).json()["items"] == []
    borrowed = await contribute(api, other, interaction(other_agreement, identifier), key)
    assert borrowed.status_code == 422, borrowed.text
    assert borrowed.json()["errors"] == [{"field": "body.customer_ref", "message": "unknown customer reference"}]

    # The customer's erasure leaves what is not personal; the customer can no longer be named.
    erased = await customers.post(f"/api/v1/customers/{customer_id}/erase")
    assert erased.status_code == 200, erased.text

    async def scrubbed() -> dict[str, Any] | None:
        found = await api.get(f"/partner/v1/contributions/{contribution['id']}", headers=as_partner(partner["id"]))
        return found.json() if found.json()["erased_at"] else None

    after = await eventually(scrubbed)
    assert after["customer_ref"] is None
    assert after["interaction"] == {
        "kind": "delivery_attempt",
        "channel": "visit",
        "direction": "outbound",
        "occurred_at": contribution["interaction"]["occurred_at"],
        "summary": None,
        "duration_seconds": 90,
        "external_reference": None,
    }
    gone = await contribute(api, partner, interaction(agreement, identifier))
    assert gone.status_code == 422, gone.text
    assert gone.json()["errors"] == [{"field": "body.customer_ref", "message": "unknown customer reference"}]


async def test_a_lead_becomes_a_customer_in_stage_lead_the_partner_can_name_later(
    api: httpx.AsyncClient, customers: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    partner = await new_partner(api, "Reseller Północ")
    agreement = await new_agreement(api, partner, direction="inbound", allowed_fields={LEAD: ["email", "note"]})
    email = f"lead-{uuid.uuid4().hex[:10]}@example.com"
    body = {"type": "lead", "agreement_id": agreement["id"], "name": "Jan Prospekt", "email": email, "note": "Quote"}
    created = await contribute(api, partner, body, f"lead-{uuid.uuid4()}")
    assert created.status_code == 201, created.text
    lead = created.json()
    assert lead["lead"]["email"] == email and len(lead["customer_ref"]) == 43  # the partner's pseudonym for it
    customer_id = str(
        await db.fetchval("SELECT customer_id FROM sharing_contributions WHERE id = $1", uuid.UUID(lead["id"]))
    )

    async def registered() -> dict[str, Any] | None:
        response = await customers.get(f"/api/v1/customers/{customer_id}")
        return response.json() if response.status_code == 200 else None

    record = await eventually(registered)
    assert record["lifecycle_stage"] == "lead" and record["display_name"] == "Jan Prospekt"
    assert record["email"] == email
    assert record["source"]["partner_id"] == partner["id"] and record["source"]["contribution_id"] == lead["id"]
    notes = await timeline_interactions(customers, customer_id)
    assert [(n["id"], n["body"]) for n in notes] == [(lead["id"], "Quote")]

    # A field the agreement does not list for leads is refused; then (adding the type) the
    # partner reports an interaction with its lead by the identifier it was given.
    refused = await contribute(api, partner, body | {"company": "Huta"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "body.company", "message": "not allowed by the agreement"}]
    not_listed = await contribute(api, partner, interaction(agreement, lead["customer_ref"]))
    assert not_listed.status_code == 422
    assert not_listed.json()["errors"] == [
        {"field": "body.type", "message": "the agreement does not allow interaction contributions"}
    ]
    patched = await api.patch(
        f"/api/v1/sharing/agreements/{agreement['id']}",
        json={"allowed_fields": {LEAD: ["email", "note"], INTERACTION: []}},
        headers={"If-Match": f'"{agreement["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    call = await contribute(api, partner, interaction(agreement, lead["customer_ref"], kind="call", channel="phone"))
    assert call.status_code == 201, call.text
    assert call.json()["agreement_version"] == patched.json()["version"]

    async def call_logged() -> bool:
        return any(n["id"] == call.json()["id"] for n in await timeline_interactions(customers, customer_id))

    await eventually(call_logged)


async def test_bad_contributions_are_refused_naming_the_field_and_nothing_is_written(
    api: httpx.AsyncClient, customers: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    partner = await new_partner(api, "Serwis AGD")
    agreement = await new_agreement(api, partner, allowed_fields={REGISTERED: ["display_name"], INTERACTION: []})
    _, identifier = await disclosed_identifier(api, customers, partner, agreement)
    outbound = await new_agreement(api, partner, direction="outbound")
    other = await new_partner(api, "Obcy Partner")
    others_agreement = await new_agreement(api, other)
    future = (datetime.now(UTC) + timedelta(hours=2)).isoformat()

    cases: list[tuple[dict[str, Any], str]] = [
        (interaction(agreement, "no-such-customer"), "body.customer_ref"),
        (interaction(agreement, identifier, summary="Not in the agreement"), "body.summary"),
        (interaction(agreement, identifier, occurred_at=future), "body.occurred_at"),
        (interaction(outbound, identifier), "body.agreement_id"),
        (interaction(agreement, identifier, duration_seconds="long"), "body.interaction.duration_seconds"),
        (interaction(agreement, identifier, occurred_at=1_700_000_000), "body.interaction.occurred_at"),
        (interaction(agreement, identifier, channel="meeting"), "body.interaction.channel"),
        (interaction(agreement, identifier, customer_id=str(uuid.uuid4())), "body.interaction.customer_id"),
        ({"type": "lead", "agreement_id": agreement["id"], "name": "X"}, "body.type"),
        ({"type": "gift", "agreement_id": agreement["id"]}, "body"),
    ]
    for body, field in cases:
        response = await contribute(api, partner, body, f"bad-{uuid.uuid4()}")
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        fields = [error["field"] for error in response.json()["errors"]]
        assert any(f == field or f.startswith(field + ".") for f in fields), (body, fields)

    # Another partner's agreement is 404, as on every partner route (and as a missing one).
    for agreement_id in (others_agreement["id"], str(uuid.uuid4())):
        foreign = await contribute(
            api, partner, interaction(others_agreement, identifier) | {"agreement_id": agreement_id}
        )
        assert foreign.status_code == 404, foreign.text
        # The same answer for both, without echoing the id: nothing tells B's agreement apart.
        assert foreign.json()["detail"] == "No such agreement of yours."

    unauthenticated = await api.post("/partner/v1/contributions", json=interaction(agreement, identifier))
    assert unauthenticated.status_code == 401
    suspended = await act(api, agreement, "suspend")
    refused = await contribute(api, partner, interaction(agreement, identifier))
    assert refused.status_code == 403 and refused.json()["type"].endswith("agreement-suspended")
    await act(api, suspended, "resume")
    partner_now = (await api.get(f"/api/v1/sharing/partners/{partner['id']}")).json()
    suspend_partner = await api.post(
        f"/api/v1/sharing/partners/{partner['id']}/suspend", headers={"If-Match": f'"{partner_now["version"]}"'}
    )
    assert suspend_partner.status_code == 200, suspend_partner.text
    blocked = await contribute(api, partner, interaction(agreement, identifier))
    assert blocked.status_code == 403 and blocked.json()["type"].endswith("partner-suspended")

    assert (
        await db.fetchval("SELECT count(*) FROM sharing_contributions WHERE partner_id = $1", uuid.UUID(partner["id"]))
        == 0
    )
    assert (
        await db.fetchval(
            "SELECT count(*) FROM outbox_events WHERE event_type IN ($1, $2) AND payload->>'partner_id' = $3",
            INTERACTION,
            LEAD,
            partner["id"],
        )
        == 0
    )
