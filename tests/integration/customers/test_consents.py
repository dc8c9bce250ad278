"""Consents through HTTP against the real PostgreSQL and broker: grant, withdraw, the
no-op on an unchanged state, partner consents, history paging, bad input, events."""

from __future__ import annotations

import uuid

import asyncpg
import httpx
import pytest

from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack

from ...support import event_types, read_topic
from .support import logged_events, new_customer

GRANTED = "relacja.customers.consent.granted.v1"
WITHDRAWN = "relacja.customers.consent.withdrawn.v1"


async def test_grant_withdraw_and_the_no_op(stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/consents"
    grant = {"purpose": "email_marketing", "status": "granted", "source": "web-form", "evidence": "form #4411"}

    first = await api.post(url, json=grant, headers={"X-Relacja-Principal": "agent-7"})
    assert first.status_code == 201, first.text
    record = first.json()
    assert (record["purpose"], record["status"], record["source"], record["evidence"], record["recorded_by"]) == (
        "email_marketing",
        "granted",
        "web-form",
        "form #4411",
        "agent-7",
    )

    again = await api.post(url, json=grant | {"evidence": "form #4412"})
    assert again.status_code == 200 and again.json() == record  # unchanged: nothing recorded

    withdrawn = await api.post(
        url, json={"purpose": "email_marketing", "status": "withdrawn", "source": "unsubscribe-link"}
    )
    assert withdrawn.status_code == 201
    assert withdrawn.json()["consent_id"] == record["consent_id"]  # the same consent, a new record
    assert withdrawn.json()["id"] != record["id"]

    current = (await api.get(url)).json()["items"]
    assert [(c["purpose"], c["status"]) for c in current] == [("email_marketing", "withdrawn")]

    assert await db.fetchval("SELECT count(*) FROM consent_records WHERE customer_id = $1", uuid.UUID(customer_id)) == 2
    events = await logged_events(db, customer_id, GRANTED, WITHDRAWN)
    assert [(t, p["purpose"], p["consent_id"], p["source"]) for t, p in events] == [
        (GRANTED, "email_marketing", record["consent_id"], "web-form"),
        (WITHDRAWN, "email_marketing", record["consent_id"], "unsubscribe-link"),
    ]
    # The relay publishes the outbox asynchronously: read until the withdrawal (the last write) is there.
    records = await read_topic(
        stack.bootstrap_servers,
        CUSTOMERS.name,
        header="ce_subject",
        values={customer_id},
        until=lambda found: WITHDRAWN in event_types(found),
    )
    published = event_types(records)
    assert [t for t in published if t in (GRANTED, WITHDRAWN)] == [GRANTED, WITHDRAWN]


async def test_partner_consents_are_separate_per_partner_and_purpose(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/consents"
    base = {"purpose": "partner_sharing", "source": "call-centre"}
    for partner, purpose, status in [
        ("dhl", "delivery", "granted"),
        ("dhl", "marketing", "granted"),
        ("ups", "delivery", "withdrawn"),
    ]:
        response = await api.post(
            url, json=base | {"partner_id": partner, "partner_purpose": purpose, "status": status}
        )
        assert response.status_code == 201, response.text
    await api.post(url, json=base | {"partner_id": "dhl", "partner_purpose": "marketing", "status": "withdrawn"})
    await api.post(url, json={"purpose": "profiling", "status": "granted", "source": "app"})

    current = (await api.get(url)).json()["items"]
    assert sorted((c["purpose"], c["partner_id"], c["partner_purpose"], c["status"]) for c in current) == [
        ("partner_sharing", "dhl", "delivery", "granted"),
        ("partner_sharing", "dhl", "marketing", "withdrawn"),
        ("partner_sharing", "ups", "delivery", "withdrawn"),
        ("profiling", None, None, "granted"),
    ]
    only = (await api.get(url, params={"purpose": "profiling"})).json()["items"]
    assert [c["purpose"] for c in only] == ["profiling"]
    events = await logged_events(db, customer_id, GRANTED, WITHDRAWN)
    assert [(t, p["partner_id"], p["partner_purpose"]) for t, p in events] == [
        (GRANTED, "dhl", "delivery"),
        (GRANTED, "dhl", "marketing"),
        (WITHDRAWN, "ups", "delivery"),
        (WITHDRAWN, "dhl", "marketing"),
        (GRANTED, None, None),
    ]


async def test_history_is_kept_whole_and_paged_newest_first(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/consents"
    statuses = ["granted", "withdrawn", "granted", "withdrawn", "granted"]
    for n, status in enumerate(statuses):
        body = {
            "purpose": "sms_marketing",
            "status": status,
            "source": "sms",
            "occurred_at": f"2026-01-0{n + 1}T10:00:00+01:00",
        }
        assert (await api.post(url, json=body)).status_code == 201
    seen, cursor = [], None
    while True:
        page = (await api.get(f"{url}/history", params={"limit": 2} | ({"cursor": cursor} if cursor else {}))).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [r["occurred_at"] for r in seen] == [f"2026-01-0{n}T09:00:00Z" for n in (5, 4, 3, 2, 1)]
    assert [r["status"] for r in seen] == list(reversed(statuses))
    assert len({r["consent_id"] for r in seen}) == 1


async def test_a_record_older_than_the_current_one_is_409(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/consents"
    body = {"purpose": "phone_marketing", "status": "granted", "source": "paper", "occurred_at": "2026-05-01T12:00:00Z"}
    assert (await api.post(url, json=body)).status_code == 201
    older = await api.post(url, json=body | {"status": "withdrawn", "occurred_at": "2026-04-30T12:00:00Z"})
    assert older.status_code == 409
    assert older.json()["type"] == "urn:relacja:problem:consent-out-of-order"
    assert older.json()["errors"][0]["field"] == "body.occurred_at"
    assert await db.fetchval("SELECT count(*) FROM consent_records WHERE customer_id = $1", uuid.UUID(customer_id)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purpose": "partner_sharing", "status": "granted", "source": "web"}, "body.partner_id"),
        (
            {"purpose": "partner_sharing", "status": "granted", "source": "web", "partner_id": "dhl"},
            "body.partner_purpose",
        ),
        ({"purpose": "email_marketing", "status": "granted", "source": "web", "partner_id": "dhl"}, "body.partner_id"),
        (
            {"purpose": "email_marketing", "status": "granted", "source": "web", "partner_purpose": "x"},
            "body.partner_purpose",
        ),
        ({"purpose": "email_marketing", "status": "maybe", "source": "web"}, "body.status"),
        ({"purpose": "telepathy", "status": "granted", "source": "web"}, "body.purpose"),
        ({"purpose": "email_marketing", "status": "granted"}, "body.source"),
        (
            {"purpose": "email_marketing", "status": "granted", "source": "web", "occurred_at": "2999-01-01T00:00:00Z"},
            "body.occurred_at",
        ),
        (
            {"purpose": "email_marketing", "status": "granted", "source": "web", "occurred_at": "2026-01-01T00:00:00"},
            "body.occurred_at",
        ),
        ({"purpose": "email_marketing", "status": "granted", "source": "web", "signed": True}, "body.signed"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, db: asyncpg.Connection, body: dict, field: str
) -> None:
    customer_id = await new_customer(api)
    response = await api.post(f"/api/v1/customers/{customer_id}/consents", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await db.fetchval("SELECT count(*) FROM consent_records WHERE customer_id = $1", uuid.UUID(customer_id)) == 0
    assert await logged_events(db, customer_id, GRANTED, WITHDRAWN) == []


async def test_unknown_customer_is_404(api: httpx.AsyncClient) -> None:
    unknown = uuid.uuid4()
    body = {"purpose": "profiling", "status": "granted", "source": "web"}
    assert (await api.post(f"/api/v1/customers/{unknown}/consents", json=body)).status_code == 404
    assert (await api.get(f"/api/v1/customers/{unknown}/consents")).status_code == 404
    assert (await api.get(f"/api/v1/customers/{unknown}/consents/history")).status_code == 404


async def test_idempotent_record(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/consents"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"purpose": "profiling", "status": "granted", "source": "app", "occurred_at": "2026-02-01T08:00:00Z"}
    first = await api.post(url, json=body, headers=key)
    replay = await api.post(url, json=body, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert len(await logged_events(db, customer_id, GRANTED, WITHDRAWN)) == 1
    assert (await api.post(url, json=body | {"status": "withdrawn"}, headers=key)).status_code == 422
