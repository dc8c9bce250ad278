"""Merge, export and erasure of the contact history, important dates and consents, through
the customer master's endpoints (which call every registered ``RelatedData`` area), against
the real PostgreSQL and broker."""

from __future__ import annotations

import json
import uuid
from datetime import date

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_customers.workers import announce_upcoming
from relacja_devstack import Stack

from .support import new_customer, post_created

GRANTED = "relacja.customers.consent.granted.v1"
WITHDRAWN = "relacja.customers.consent.withdrawn.v1"


async def consent(api: httpx.AsyncClient, customer_id: str, purpose: str, status: str, at: str) -> dict:
    body = {"purpose": purpose, "status": status, "source": "web-form", "evidence": "signed form 17", "occurred_at": at}
    return await post_created(api, f"/api/v1/customers/{customer_id}/consents", body)


async def test_merge_keeps_every_interaction_date_and_consent_record(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    survivor, other = await new_customer(api, "Adam Nowak"), await new_customer(api, "A. Nowak")
    call = await post_created(
        api, f"/api/v1/customers/{survivor}/interactions", {"channel": "phone", "direction": "inbound"}
    )
    mail = await post_created(
        api, f"/api/v1/customers/{other}/interactions", {"channel": "email", "direction": "outbound"}
    )
    birthday = await post_created(
        api, f"/api/v1/customers/{other}/important-dates", {"kind": "birthday", "month": 3, "day": 9}
    )
    await consent(api, survivor, "email_marketing", "granted", "2026-01-01T10:00:00Z")
    await consent(api, survivor, "profiling", "granted", "2026-01-01T10:00:00Z")
    later_withdrawal = await consent(api, other, "email_marketing", "withdrawn", "2026-02-01T10:00:00Z")
    await consent(api, other, "profiling", "withdrawn", "2025-12-01T10:00:00Z")  # older than the survivor's grant
    sms = await consent(api, other, "sms_marketing", "granted", "2026-01-15T10:00:00Z")
    both = [uuid.UUID(survivor), uuid.UUID(other)]
    logged_before = [
        r["event_id"]
        for r in await db.fetch("SELECT event_id FROM customer_event_log WHERE customer_id = ANY($1)", both)
    ]

    etag = (await api.get(f"/api/v1/customers/{survivor}")).headers["etag"]
    merged = await api.post(
        f"/api/v1/customers/{survivor}/merge", json={"merge_customer_id": other}, headers={"If-Match": etag}
    )
    assert merged.status_code == 200, merged.text

    listed = (await api.get(f"/api/v1/customers/{survivor}/interactions")).json()["items"]
    assert {i["id"] for i in listed} == {call["id"], mail["id"]}
    dates = (await api.get(f"/api/v1/customers/{survivor}/important-dates")).json()["items"]
    assert [d["id"] for d in dates] == [birthday["id"]]
    history = (await api.get(f"/api/v1/customers/{survivor}/consents/history")).json()["items"]
    assert len(history) == 5  # both histories, whole
    current = {c["purpose"]: c for c in (await api.get(f"/api/v1/customers/{survivor}/consents")).json()["items"]}
    assert {p: c["status"] for p, c in current.items()} == {
        "email_marketing": "withdrawn",
        "profiling": "granted",
        "sms_marketing": "granted",
    }
    assert current["email_marketing"]["id"] == later_withdrawal["id"]
    for table in ("interactions", "important_dates", "consent_records"):
        assert await db.fetchval(f"SELECT count(*) FROM {table} WHERE customer_id = $1", uuid.UUID(other)) == 0

    # The survivor's consents whose state changed are announced again, for the survivor: the consent
    # events about these two customers not logged before the merge (their ids, not the global log's).
    announced = await db.fetch(
        "SELECT event_type, payload FROM customer_event_log "
        "WHERE customer_id = ANY($1) AND event_type = ANY($2) AND event_id <> ALL($3) ORDER BY id",
        both,
        [GRANTED, WITHDRAWN],
        logged_before,
    )
    assert sorted(
        (r["event_type"], json.loads(r["payload"])["purpose"], json.loads(r["payload"])["customer_id"])
        for r in announced
    ) == [
        (GRANTED, "sms_marketing", survivor),
        (WITHDRAWN, "email_marketing", survivor),
    ]
    assert {json.loads(r["payload"])["consent_id"] for r in announced} == {
        later_withdrawal["consent_id"],
        sms["consent_id"],
    }

    # A further change of a merged-in consent continues its history.
    again = await api.post(
        f"/api/v1/customers/{survivor}/consents",
        json={"purpose": "email_marketing", "status": "granted", "source": "app"},
    )
    assert again.status_code == 201 and again.json()["consent_id"] == later_withdrawal["consent_id"]


async def test_export_holds_every_area(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    call = await post_created(
        api,
        f"/api/v1/customers/{customer_id}/interactions",
        {"channel": "phone", "direction": "inbound", "subject": "Hej"},
    )
    day = await post_created(
        api, f"/api/v1/customers/{customer_id}/important-dates", {"kind": "custom", "month": 5, "day": 5, "label": "x"}
    )
    grant = await consent(api, customer_id, "profiling", "granted", "2026-01-01T10:00:00Z")
    withdrawal = await consent(api, customer_id, "profiling", "withdrawn", "2026-01-02T10:00:00Z")

    exported = await api.get(f"/api/v1/customers/{customer_id}/export")
    assert exported.status_code == 200, exported.text
    related = exported.json()["related"]
    assert [i["id"] for i in related["interactions"]] == [call["id"]] and related["interactions"][0]["subject"] == "Hej"
    assert related["important_dates"] == [day]
    assert [r["id"] for r in related["consents"]["history"]] == [grant["id"], withdrawal["id"]]
    assert [r["id"] for r in related["consents"]["current"]] == [withdrawal["id"]]


async def test_erase_pseudonymises_and_keeps_the_proof(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer_id = await new_customer(api)
    key = str(uuid.uuid4())
    meeting = await post_created(
        api,
        f"/api/v1/customers/{customer_id}/interactions",
        {
            "channel": "meeting",
            "direction": "outbound",
            "subject": "Kredyt hipoteczny",
            "body": "Dochody: ...",
            "agent_id": "agent-9",
            "scheduled_start": "2026-01-10T10:00:00Z",
            "scheduled_end": "2026-01-10T11:00:00Z",
            "attendee_emails": ["wife@example.com"],
            "attendee_agent_ids": ["agent-3"],
        },
        **{"Idempotency-Key": key},
    )
    birthday = await post_created(
        api,
        f"/api/v1/customers/{customer_id}/important-dates",
        {"kind": "birthday", "month": 10, "day": 1, "year": 1980, "label": "Adam"},
    )
    anniversary = await post_created(
        api,
        f"/api/v1/customers/{customer_id}/important-dates",
        {"kind": "contract_anniversary", "month": 10, "day": 2, "year": 2015},
    )
    record = await consent(api, customer_id, "email_marketing", "granted", "2026-01-01T10:00:00Z")

    erased = await api.post(f"/api/v1/customers/{customer_id}/erase")
    assert erased.status_code == 200, erased.text

    row = await db.fetchrow("SELECT * FROM interactions WHERE id = $1", uuid.UUID(meeting["id"]))
    assert row is not None
    assert (row["subject"], row["body"], row["attendee_emails"]) == (None, None, [])
    assert row["erased_at"] is not None
    assert (row["channel"], row["agent_id"], row["attendee_agent_ids"], row["duration_seconds"]) == (
        "meeting",
        "agent-9",
        ["agent-3"],
        3600,
    )

    dates = {
        r["id"]: r
        for r in await db.fetch("SELECT * FROM important_dates WHERE customer_id = $1", uuid.UUID(customer_id))
    }
    assert (dates[uuid.UUID(birthday["id"])]["label"], dates[uuid.UUID(birthday["id"])]["year"]) == (None, None)
    assert dates[uuid.UUID(anniversary["id"])]["year"] == 2015  # not personal: kept
    assert all(r["erased_at"] is not None for r in dates.values())

    consent_row = await db.fetchrow("SELECT * FROM consent_records WHERE id = $1", uuid.UUID(record["id"]))
    assert consent_row is not None
    assert consent_row["evidence"] is None
    assert (consent_row["status"], consent_row["source"], consent_row["purpose"]) == (
        "granted",
        "web-form",
        "email_marketing",
    )

    assert await db.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = $1", key) == 0
    replay = await api.post(
        f"/api/v1/customers/{customer_id}/interactions",
        json={"channel": "note", "direction": "internal"},
        headers={"Idempotency-Key": key},
    )
    assert replay.status_code == 409  # nothing new is recorded about an erased customer
    assert (
        await api.post(
            f"/api/v1/customers/{customer_id}/consents",
            json={"purpose": "profiling", "status": "granted", "source": "x"},
        )
    ).status_code == 409
    relabel = await api.patch(
        f"/api/v1/customers/{customer_id}/important-dates/{birthday['id']}",
        json={"label": "Adam again"},
        headers={"If-Match": "*"},
    )
    assert relabel.status_code == 409 and relabel.json()["type"] == "urn:relacja:problem:customer-erased"

    engine = create_async_engine(stack.database_url("customers"))
    try:
        await announce_upcoming(async_sessionmaker(engine), today=date(2036, 9, 30), lead_days=7)
    finally:
        await engine.dispose()
    assert (
        await db.fetchval(
            "SELECT count(*) FROM important_date_announcements WHERE important_date_id = ANY($1)",
            [uuid.UUID(birthday["id"]), uuid.UUID(anniversary["id"])],
        )
        == 0
    )  # erased dates are no longer announced
