"""The customer timeline against the real PostgreSQL: interactions and the customer's own
events merged newest first, keyset paging across both sources (ties included), stability
while the history grows."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx

from .support import all_pages, new_customer, post_created


async def log(api: httpx.AsyncClient, customer_id: str, occurred_at: str, subject: str) -> dict:
    body = {"channel": "phone", "direction": "inbound", "occurred_at": occurred_at, "subject": subject}
    return await post_created(api, f"/api/v1/customers/{customer_id}/interactions", body)


async def walk(api: httpx.AsyncClient, customer_id: str, limit: int) -> list[dict]:
    return await all_pages(api, f"/api/v1/customers/{customer_id}/timeline", {"limit": limit})


def label(item: dict) -> str:
    return item["interaction"]["subject"] if item["kind"] == "interaction" else item["event_type"]


async def test_timeline_merges_interactions_and_events_newest_first(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    await log(api, customer_id, "2026-01-05T10:00:00Z", "older call")
    await log(api, customer_id, "2026-01-06T10:00:00Z", "newer call")
    consent = await api.post(
        f"/api/v1/customers/{customer_id}/consents", json={"purpose": "profiling", "status": "granted", "source": "app"}
    )
    assert consent.status_code == 201

    items = (await api.get(f"/api/v1/customers/{customer_id}/timeline")).json()["items"]
    assert [label(i) for i in items] == [
        "relacja.customers.consent.granted.v1",
        "relacja.customers.customer.registered.v1",
        "newer call",
        "older call",
    ]  # the interaction.logged events are not listed twice
    assert (
        items[0]["payload"]["purpose"] == "profiling"
        and items[0]["payload"]["consent_id"] == consent.json()["consent_id"]
    )
    assert items[2]["interaction"]["channel"] == "phone" and items[2]["occurred_at"] == "2026-01-06T10:00:00Z"
    times = [i["occurred_at"] for i in items]
    assert times == sorted(times, reverse=True)

    for limit in (1, 2, 3):
        assert [i["id"] for i in await walk(api, customer_id, limit)] == [i["id"] for i in items]


async def test_paging_across_sources_with_equal_times(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer_id = await new_customer(api)
    same = "2026-02-01T12:00:00Z"
    calls = [await log(api, customer_id, same, f"call {n}") for n in range(3)]
    moment = datetime(2026, 2, 1, 12, tzinfo=UTC)
    event_ids = [uuid.uuid4() for _ in range(2)]
    for event_id in event_ids:  # events written at the very same instant
        await db.execute(
            "INSERT INTO customer_event_log (event_id, customer_id, event_type, occurred_at, payload) VALUES ($1, $2, $3, $4, $5)",
            event_id,
            uuid.UUID(customer_id),
            "relacja.customers.test.tie.v1",
            moment,
            json.dumps({"n": 1}),
        )
    whole = await walk(api, customer_id, 50)
    tied = [i for i in whole if i["occurred_at"] == same]
    # interactions before events at one instant, each source by id descending
    assert [i["id"] for i in tied] == sorted((c["id"] for c in calls), reverse=True) + sorted(
        (str(e) for e in event_ids), reverse=True
    )
    for limit in (1, 2, 4):
        assert [i["id"] for i in await walk(api, customer_id, limit)] == [i["id"] for i in whole]


async def test_paging_is_stable_while_the_history_grows(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    for day in range(1, 6):
        await log(api, customer_id, f"2026-03-0{day}T08:00:00Z", f"day {day}")
    url = f"/api/v1/customers/{customer_id}/timeline"
    first = (await api.get(url, params={"limit": 2})).json()
    await log(api, customer_id, "2026-03-09T08:00:00Z", "new, newer than the cursor")
    await log(api, customer_id, "2026-03-03T08:00:00Z", "new, older than the cursor")
    seen, cursor = first["items"], first["next_cursor"]
    while cursor:
        page = (await api.get(url, params={"limit": 2, "cursor": cursor})).json()
        seen += page["items"]
        cursor = page["next_cursor"]
    labels = [label(i) for i in seen]
    assert len(labels) == len({i["id"] for i in seen})
    assert "new, newer than the cursor" not in labels and "new, older than the cursor" in labels
    assert labels[:2] == ["relacja.customers.customer.registered.v1", "day 5"]


async def test_bad_cursor_and_unknown_customer(api: httpx.AsyncClient) -> None:
    customer_id = await new_customer(api)
    bad = await api.get(f"/api/v1/customers/{customer_id}/timeline", params={"cursor": "garbage"})
    assert bad.status_code == 400 and bad.json()["type"] == "urn:relacja:problem:invalid-cursor"
    await log(api, customer_id, "2026-03-01T08:00:00Z", "a")
    await log(api, customer_id, "2026-03-02T08:00:00Z", "b")
    other_sort = (await api.get(f"/api/v1/customers/{customer_id}/interactions", params={"limit": 1})).json()[
        "next_cursor"
    ]
    wrong = await api.get(f"/api/v1/customers/{customer_id}/timeline", params={"cursor": other_sort})
    assert wrong.status_code == 400
    assert (await api.get(f"/api/v1/customers/{uuid.uuid4()}/timeline")).status_code == 404
