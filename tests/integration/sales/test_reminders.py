"""Reminders: ActivityDueV1 within seconds of the reminder time, exactly once, with the
service's own worker and two more workers racing it on the same database."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts.events import ActivityDueV1
from relacja_sales.settings import SalesSettings
from relacja_sales.workers import ReminderWorker, fire_reminders

from .support import as_caller, create_pipeline, new_customer, open_deal, problem

REP = as_caller("rep-rem", team="south")


async def test_reminders_fire_once_each_with_several_workers(
    api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer = await new_customer()
    soon = datetime.now(UTC) + timedelta(seconds=3)
    rows = [
        (uuid.uuid4(), customer, f"rep-{i % 7}", soon + timedelta(milliseconds=i), soon + timedelta(hours=1))
        for i in range(600)
    ]
    await db.executemany(
        """INSERT INTO activities (id, kind, customer_id, assignee_id, status, remind_at, due_at, created_at,
                                   updated_at, version)
           VALUES ($1, 'to_do', $2, $3, 'open', $4, $5, now(), now(), 1)""",
        rows,
    )
    settings = SalesSettings(reminder_batch_size=50, reminder_poll_seconds=0.2)
    workers = [asyncio.create_task(ReminderWorker(sessions, settings).run()) for _ in range(2)]
    try:
        ids = [row[0] for row in rows]
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while datetime.now(UTC) < deadline:
            left = await db.fetchval("SELECT count(*) FROM activities WHERE id = ANY($1) AND reminded_at IS NULL", ids)
            if left == 0:
                break
            await asyncio.sleep(0.2)
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    counts = await db.fetch(
        """SELECT (payload->>'activity_id')::uuid AS id, count(*) AS n FROM outbox_events
           WHERE event_type = 'relacja.sales.activity.due.v1' AND payload->>'customer_id' = $1
           GROUP BY 1""",
        str(customer),
    )
    assert {row["id"] for row in counts} == set(ids)
    assert {row["n"] for row in counts} == {1}
    # The rows are built in SQL: they must read back as the contract's events.
    sample = await db.fetch(
        "SELECT headers, payload FROM outbox_events WHERE event_type = 'relacja.sales.activity.due.v1' "
        "AND payload->>'customer_id' = $1 LIMIT 5",
        str(customer),
    )
    for row in sample:
        event = ActivityDueV1.model_validate_json(row["payload"])
        assert event.customer_id == customer and event.kind == "to_do" and event.due_at > event.remind_at
        headers = dict(json.loads(row["headers"]))
        assert headers["ce_type"] == "relacja.sales.activity.due.v1" and headers["ce_subject"] == str(customer)
    lags = await db.fetchval(
        "SELECT max(reminded_at - remind_at) FROM activities WHERE id = ANY($1)", [row[0] for row in rows]
    )
    assert lags < timedelta(seconds=60)
    # Nothing is left for a late worker.
    assert await fire_reminders(sessions, datetime.now(UTC)) == 0


async def test_a_reminder_after_the_due_time_is_refused_where_the_pipeline_forbids_it(
    api: httpx.AsyncClient,
) -> None:
    strict = await create_pipeline(api)
    lenient = await create_pipeline(api, late_reminders_allowed=True)
    due = datetime.now(UTC) + timedelta(days=1)
    late = {"kind": "call", "due_at": due.isoformat(), "remind_at": (due + timedelta(minutes=5)).isoformat()}
    deal = await open_deal(api, strict, REP)
    response = await api.post("/api/v1/sales/activities", json=late | {"opportunity_id": deal["id"]}, headers=REP)
    problem(response, 422, "body.remind_at")
    other = await open_deal(api, lenient, REP)
    response = await api.post("/api/v1/sales/activities", json=late | {"opportunity_id": other["id"]}, headers=REP)
    assert response.status_code == 201, response.text
    assert response.json()["customer_id"] == other["customer_id"]


async def test_overdue_lists_and_rearming(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    customer = await new_customer()
    me = as_caller(f"rep-{uuid.uuid4().hex[:6]}")
    past = datetime.now(UTC) - timedelta(hours=2)
    created = []
    for offset in (3, 1, 2):
        response = await api.post(
            "/api/v1/sales/activities",
            json={
                "kind": "to_do",
                "customer_id": str(customer),
                "due_at": (past + timedelta(minutes=offset)).isoformat(),
            },
            headers=me,
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    overdue = (await api.get("/api/v1/sales/activities/overdue", headers=me)).json()["items"]
    assert [a["id"] for a in overdue] == [created[1]["id"], created[2]["id"], created[0]["id"]]
    done = await api.post(f"/api/v1/sales/activities/{created[1]['id']}/complete", headers=me)
    assert done.status_code == 200 and done.json()["status"] == "done"
    assert len((await api.get("/api/v1/sales/activities/overdue", headers=me)).json()["items"]) == 2
    assert (await api.get("/api/v1/sales/activities/overdue", headers=as_caller("rep-other"))).json()["items"] == []
