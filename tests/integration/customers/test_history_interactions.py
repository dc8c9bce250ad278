"""The contact history through HTTP against the real PostgreSQL and broker: logging every
channel, meetings and an agent's calendar, filters and paging, bad input, the event."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack

from ...support import event_types, read_topic
from .support import new_customer, post_created

LOGGED = "relacja.customers.interaction.logged.v1"


async def log(api: httpx.AsyncClient, customer_id: str, **body: object) -> dict:
    return await post_created(api, f"/api/v1/customers/{customer_id}/interactions", body)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_every_channel_is_logged_with_its_event(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer_id = await new_customer(api)
    call = await api.post(
        f"/api/v1/customers/{customer_id}/interactions",
        json={
            "channel": "phone",
            "direction": "inbound",
            "subject": "Reklamacja",
            "body": "Klient dzwonił w sprawie zwrotu.",
            "agent_id": "agent-1",
            "occurred_at": "2026-03-02T09:15:00+01:00",
            "duration_seconds": 420,
        },
    )
    assert call.status_code == 201, call.text
    item = call.json()
    assert call.headers["location"] == f"/api/v1/customers/{customer_id}/interactions/{item['id']}"
    assert (item["channel"], item["direction"], item["occurred_at"], item["duration_seconds"]) == (
        "phone",
        "inbound",
        "2026-03-02T08:15:00Z",
        420,
    )
    assert (await api.get(call.headers["location"])).json() == item

    for channel, direction in [
        ("email", "outbound"),
        ("chat", "inbound"),
        ("social", "inbound"),
        ("visit", "inbound"),
        ("note", "internal"),
    ]:
        await log(api, customer_id, channel=channel, direction=direction, occurred_at="2026-03-01T10:00:00Z")

    row = await db.fetchrow("SELECT subject, body, agent_id FROM interactions WHERE id = $1", uuid.UUID(item["id"]))
    assert row is not None
    assert (row["subject"], row["agent_id"]) == ("Reklamacja", "agent-1")
    events = await db.fetch(
        "SELECT payload FROM customer_event_log WHERE customer_id = $1 AND event_type = $2 ORDER BY id",
        uuid.UUID(customer_id),
        LOGGED,
    )
    payloads = [json.loads(e["payload"]) for e in events]
    assert [p["channel"] for p in payloads] == ["phone", "email", "chat", "social", "visit", "note"]
    assert payloads[0] == {
        "customer_id": customer_id,
        "interaction_id": item["id"],
        "channel": "phone",
        "direction": "inbound",
        "agent_id": "agent-1",
        "occurred_at": "2026-03-02T08:15:00Z",
        "duration_seconds": 420,
    }
    assert "subject" not in payloads[0] and "body" not in payloads[0]

    # The relay publishes the outbox asynchronously: read until the last interaction's event is there.
    records = await read_topic(
        stack.bootstrap_servers,
        CUSTOMERS.name,
        header="ce_subject",
        values={customer_id},
        until=lambda found: event_types(found).count(LOGGED) >= 6,
    )
    logged = [r for r in records if dict(r.headers)["ce_type"].decode() == LOGGED]
    assert len(logged) == 6 and all(r.key == customer_id.encode() for r in logged)


async def test_list_is_newest_first_with_filters_and_stable_paging(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    base = datetime(2026, 4, 1, 12, tzinfo=UTC)
    made = [
        await log(
            api,
            customer_id,
            channel="email" if n % 2 else "phone",
            direction="outbound",
            occurred_at=iso(base + timedelta(hours=n)),
        )
        for n in range(7)
    ]
    url = f"/api/v1/customers/{customer_id}/interactions"
    first = (await api.get(url, params={"limit": 3})).json()
    # a new, newer interaction arriving between pages neither shifts nor repeats items
    await log(api, customer_id, channel="chat", direction="inbound", occurred_at=iso(base + timedelta(days=1)))
    seen, cursor = first["items"], first["next_cursor"]
    while cursor:
        page = (await api.get(url, params={"limit": 3, "cursor": cursor})).json()
        seen += page["items"]
        cursor = page["next_cursor"]
    assert [i["id"] for i in seen] == [i["id"] for i in reversed(made)]

    emails = (await api.get(url, params={"channel": "email"})).json()["items"]
    assert [i["id"] for i in emails] == [made[5]["id"], made[3]["id"], made[1]["id"]]
    window = (
        await api.get(
            url,
            params={
                "occurred_after": iso(base + timedelta(hours=2)),
                "occurred_before": iso(base + timedelta(hours=4)),
            },
        )
    ).json()["items"]
    assert [i["id"] for i in window] == [made[3]["id"], made[2]["id"]]
    bad = await api.get(url, params={"channel": "fax"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "query.channel"
    assert (await api.get(url, params={"chanel": "email"})).status_code == 400


async def test_meetings_form_an_agents_calendar(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    owned = await log(
        api,
        customer_id,
        channel="meeting",
        direction="outbound",
        agent_id=agent,
        subject="Oferta",
        scheduled_start=iso(soon),
        scheduled_end=iso(soon + timedelta(hours=1)),
        attendee_emails=["Anna@Example.com", "anna@example.com"],
    )
    assert owned["occurred_at"] == iso(soon) and owned["duration_seconds"] == 3600
    assert owned["attendee_emails"] == ["anna@example.com"]
    attended = await log(
        api,
        customer_id,
        channel="meeting",
        direction="internal",
        agent_id="someone-else",
        scheduled_start=iso(soon - timedelta(hours=3)),
        scheduled_end=iso(soon - timedelta(hours=2)),
        attendee_agent_ids=[agent],
    )
    later = await log(
        api,
        customer_id,
        channel="meeting",
        direction="outbound",
        agent_id=agent,
        scheduled_start=iso(soon + timedelta(days=10)),
        scheduled_end=iso(soon + timedelta(days=10, hours=1)),
    )
    await log(
        api,
        customer_id,
        channel="meeting",
        direction="outbound",
        agent_id=agent,
        scheduled_start=iso(soon - timedelta(days=3)),
        scheduled_end=iso(soon - timedelta(days=3) + timedelta(hours=1)),
    )  # already over
    await log(api, customer_id, channel="phone", direction="outbound", agent_id=agent)  # not a meeting

    calendar = await api.get("/api/v1/customers/meetings", params={"agent_id": agent})
    assert calendar.status_code == 200, calendar.text
    assert [m["id"] for m in calendar.json()["items"]] == [attended["id"], owned["id"], later["id"]]

    bounded = (
        await api.get("/api/v1/customers/meetings", params={"agent_id": agent, "to": iso(soon + timedelta(days=2))})
    ).json()
    assert [m["id"] for m in bounded["items"]] == [attended["id"], owned["id"]]
    paged = (await api.get("/api/v1/customers/meetings", params={"agent_id": agent, "limit": 2})).json()
    rest = (
        await api.get(
            "/api/v1/customers/meetings", params={"agent_id": agent, "limit": 2, "cursor": paged["next_cursor"]}
        )
    ).json()
    assert [m["id"] for m in paged["items"] + rest["items"]] == [attended["id"], owned["id"], later["id"]]
    assert rest["next_cursor"] is None

    assert (await api.get("/api/v1/customers/meetings")).json()["errors"][0]["field"] == "query.agent_id"
    naive = await api.get("/api/v1/customers/meetings", params={"agent_id": agent, "from": "2026-01-01T00:00:00"})
    assert naive.status_code == 400 and naive.json()["errors"][0]["field"] == "query.from"
    backwards = await api.get(
        "/api/v1/customers/meetings", params={"agent_id": agent, "from": iso(soon), "to": iso(soon)}
    )
    assert backwards.status_code == 400 and backwards.json()["errors"][0]["field"] == "query.to"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax", "direction": "inbound"}, "body.channel"),
        ({"channel": "phone", "direction": "sideways"}, "body.direction"),
        ({"channel": "phone"}, "body.direction"),
        ({"channel": "phone", "direction": "inbound", "duration_seconds": -1}, "body.duration_seconds"),
        ({"channel": "phone", "direction": "inbound", "occurred_at": "2999-01-01T00:00:00Z"}, "body.occurred_at"),
        ({"channel": "phone", "direction": "inbound", "occurred_at": "2026-01-01T10:00:00"}, "body.occurred_at"),
        (
            {"channel": "phone", "direction": "inbound", "scheduled_start": "2026-01-01T10:00:00Z"},
            "body.scheduled_start",
        ),
        ({"channel": "phone", "direction": "inbound", "attendee_emails": ["a@example.com"]}, "body.attendee_emails"),
        (
            {"channel": "meeting", "direction": "outbound", "scheduled_end": "2026-01-01T10:00:00Z"},
            "body.scheduled_start",
        ),
        (
            {
                "channel": "meeting",
                "direction": "outbound",
                "scheduled_start": "2026-01-01T10:00:00Z",
                "scheduled_end": "2026-01-01T09:00:00Z",
            },
            "body.scheduled_end",
        ),
        (
            {
                "channel": "meeting",
                "direction": "outbound",
                "scheduled_start": "2026-01-01T10:00:00Z",
                "scheduled_end": "2026-01-01T11:00:00Z",
                "attendee_emails": ["not-an-email"],
            },
            "body.attendee_emails.0",
        ),
        ({"channel": "note", "direction": "internal", "mood": "happy"}, "body.mood"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, db: asyncpg.Connection, body: dict, field: str
) -> None:
    customer_id = await new_customer(api)
    response = await api.post(f"/api/v1/customers/{customer_id}/interactions", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE customer_id = $1", uuid.UUID(customer_id)) == 0


async def test_unknown_customer_or_interaction_is_404(api: httpx.AsyncClient) -> None:
    unknown = uuid.uuid4()
    body = {"channel": "note", "direction": "internal", "body": "x"}
    assert (await api.post(f"/api/v1/customers/{unknown}/interactions", json=body)).status_code == 404
    assert (await api.get(f"/api/v1/customers/{unknown}/interactions")).status_code == 404
    customer_id = await new_customer(api)
    missing = await api.get(f"/api/v1/customers/{customer_id}/interactions/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.json()["type"] == "urn:relacja:problem:not-found"
    other = await new_customer(api)
    item = await log(api, other, channel="note", direction="internal")
    assert (await api.get(f"/api/v1/customers/{customer_id}/interactions/{item['id']}")).status_code == 404


async def test_idempotent_logging(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    url = f"/api/v1/customers/{customer_id}/interactions"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = {"channel": "email", "direction": "inbound", "subject": "Pytanie", "occurred_at": "2026-02-01T08:00:00Z"}
    first = await api.post(url, json=body, headers=key)
    replay = await api.post(url, json=body, headers=key)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM interactions WHERE customer_id = $1", uuid.UUID(customer_id)) == 1
    assert (
        await db.fetchval(
            "SELECT count(*) FROM customer_event_log WHERE customer_id = $1 AND event_type = $2",
            uuid.UUID(customer_id),
            LOGGED,
        )
        == 1
    )
    assert (await api.post(url, json=body | {"subject": "Inne"}, headers=key)).status_code == 422
