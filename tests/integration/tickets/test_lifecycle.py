"""A ticket's life against the real PostgreSQL: opening, the thread, the state machine,
ETags, the pause while waiting for the customer, the CSAT survey and the events."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
import httpx

from ...support import eventually
from .support import act, create_policy, new_team, open_ticket, problem, ticket_events


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def comment(
    api: httpx.AsyncClient, ticket_id: str, body: str, *, public: bool = True, author_type: str = "agent"
) -> httpx.Response:
    return await api.post(
        f"/api/v1/tickets/{ticket_id}/comments", json={"body": body, "public": public, "author_type": author_type}
    )


async def fetch(api: httpx.AsyncClient, ticket_id: str) -> dict:
    response = await api.get(f"/api/v1/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()


async def test_full_lifecycle_with_sla_pause_survey_and_events(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    team = new_team()
    policy = await create_policy(api, team)
    key = {"Idempotency-Key": f"open-{uuid.uuid4()}"}
    ticket = await open_ticket(api, key, team=team, tags=["parcel", "parcel"], assignee_id="agent-7")
    replay = await api.post(
        "/api/v1/tickets",
        json={k: ticket[k] for k in ("customer_id", "type", "channel", "priority", "subject", "description")}
        | {"team": team, "tags": ["parcel", "parcel"], "assignee_id": "agent-7"},
        headers=key,
    )
    assert (
        replay.status_code == 201
        and replay.json()["id"] == ticket["id"]
        and replay.headers["idempotent-replayed"] == "true"
    )

    assert ticket["status"] == "new" and ticket["tags"] == ["parcel"] and ticket["version"] == 1
    sla = ticket["sla"]
    assert sla["policy_id"] == policy["id"] and not sla["paused"] and not sla["breached"]
    opened = instant(ticket["opened_at"])
    assert instant(sla["first_response"]["due_at"]) == opened + timedelta(minutes=30)
    assert instant(sla["resolution"]["due_at"]) == opened + timedelta(minutes=240)
    assert instant(sla["due_at"]) == opened + timedelta(minutes=30)

    # Changes need the current ETag.
    problem(
        await api.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "normal"}), 428, "precondition-required"
    )
    problem(
        await api.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "normal"}, headers={"If-Match": '"9"'}),
        412,
        "precondition-failed",
    )
    changed = await api.patch(
        f"/api/v1/tickets/{ticket['id']}", json={"priority": "normal"}, headers={"If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    ticket = changed.json()
    assert ticket["version"] == 2 and changed.headers["etag"] == '"2"'
    assert instant(ticket["sla"]["resolution"]["due_at"]) - opened >= timedelta(minutes=960) - timedelta(seconds=5)

    # An internal note is not a response; the first public agent comment is.
    assert (await comment(api, ticket["id"], "Checking with the courier", public=False)).status_code == 201
    assert (await fetch(api, ticket["id"]))["first_responded_at"] is None
    assert (await comment(api, ticket["id"], "Sorry! Could you send a photo?")).status_code == 201
    ticket = await fetch(api, ticket["id"])
    assert ticket["status"] == "open" and ticket["first_responded_at"] is not None
    assert ticket["sla"]["first_response"]["state"] == "met"

    # Waiting for the customer pauses the resolution clock; the customer's reply resumes it.
    waiting = await act(api, ticket, "wait")
    assert waiting.status_code == 200, waiting.text
    ticket = waiting.json()
    assert ticket["sla"]["paused"] and ticket["sla"]["resolution"]["due_at"] is None and ticket["sla"]["due_at"] is None
    reply = await comment(api, ticket["id"], "Here is the photo", author_type="customer")
    assert reply.status_code == 201
    ticket = await fetch(api, ticket["id"])
    assert (
        ticket["status"] == "open" and not ticket["sla"]["paused"] and ticket["sla"]["resolution"]["due_at"] is not None
    )

    # Illegal actions are 409, naming the current status and the allowed actions.
    illegal = problem(await act(api, ticket, "close"), 409, "illegal-transition")
    assert illegal["current_status"] == "open" and illegal["action"] == "close"
    assert illegal["allowed_actions"] == ["wait", "resolve"] and "open" in illegal["detail"]
    problem(await act(api, ticket, "resume"), 409, "illegal-transition")
    problem(await act(api, ticket, "reopen"), 409, "illegal-transition")

    resolved = await act(api, ticket, "resolve")
    assert resolved.status_code == 200, resolved.text
    ticket = resolved.json()
    assert ticket["status"] == "resolved" and ticket["sla"]["resolution"]["state"] == "met"
    survey = ticket["survey"]
    assert survey["kind"] == "csat" and survey["url_path"] == f"/api/v1/surveys/{survey['token']}"
    assert "survey" not in (await fetch(api, ticket["id"])) or (await fetch(api, ticket["id"]))["survey"] is None
    stored = await db.fetchrow("SELECT token_hash, kind FROM surveys WHERE id = $1", uuid.UUID(survey["id"]))
    assert stored is not None
    assert stored["kind"] == "csat" and survey["token"] not in stored["token_hash"]

    reopened = await act(api, ticket, "reopen")
    assert reopened.status_code == 200, reopened.text
    ticket = reopened.json()
    assert ticket["resolved_at"] is None and ticket["sla"]["resolution"]["state"] == "running"
    ticket = (await act(api, ticket, "resolve")).json()
    closed = await act(api, ticket, "close")
    assert closed.status_code == 200, closed.text
    ticket = closed.json()

    body = problem(await comment(api, ticket["id"], "One more thing"), 409, "ticket-closed")
    assert "closed" in body["detail"]
    closed_problem = problem(await act(api, ticket, "reopen"), 409, "illegal-transition")
    assert closed_problem["current_status"] == "closed" and closed_problem["allowed_actions"] == []
    problem(
        await api.patch(f"/api/v1/tickets/{ticket['id']}", json={"tags": []}, headers={"If-Match": "*"}),
        409,
        "ticket-closed",
    )

    events = await ticket_events(db, ticket["id"])
    assert [kind for kind, _ in events] == [
        "ticket.opened.v1",
        "ticket.first_responded.v1",
        "ticket.resolved.v1",
        "ticket.reopened.v1",
        "ticket.resolved.v1",
        "ticket.closed.v1",
    ]
    assert all(payload["customer_id"] == ticket["customer_id"] and "subject" not in payload for _, payload in events)
    first_responded, resolved_event = events[1][1], events[2][1]
    assert first_responded["within_sla"] is True and first_responded["business_seconds"] >= 0
    assert resolved_event["status"] == "resolved" and resolved_event["within_sla"] is True
    keys = await db.fetch("SELECT DISTINCT key FROM outbox_events WHERE payload->>'ticket_id' = $1", ticket["id"])
    assert [row["key"] for row in keys] == [ticket["customer_id"]]


async def test_reopen_window_and_auto_close(api: httpx.AsyncClient, db: asyncpg.Connection) -> None:
    ticket = await open_ticket(api, team=new_team())
    assert ticket["sla"] is None  # no policy for this team, and no test makes a default policy
    ticket = (await act(api, ticket, "resolve")).json()
    # Resolved eight days ago: past the 7-day reopen window.
    await db.execute(
        "UPDATE tickets SET resolved_at = now() - interval '8 days' WHERE id = $1", uuid.UUID(ticket["id"])
    )
    response = await act(api, ticket, "reopen")
    # 409 reopen-window-passed; or, if the watcher closed it first, 412 (a new version).
    assert response.status_code in (409, 412), response.text
    assert response.json()["type"].endswith(("reopen-window-passed", "precondition-failed"))

    async def closed() -> bool:
        return await db.fetchval("SELECT status FROM tickets WHERE id = $1", uuid.UUID(ticket["id"])) == "closed"

    await eventually(closed, timeout=30)  # the watcher's round; a loaded machine can delay it
    assert [kind for kind, _ in await ticket_events(db, ticket["id"])][-1] == "ticket.closed.v1"


async def test_lists_filters_and_queues(api: httpx.AsyncClient) -> None:
    team = new_team()
    await create_policy(api, team)
    agent = f"agent-{uuid.uuid4().hex[:8]}"
    urgent = await open_ticket(api, team=team, assignee_id=agent, priority="urgent")
    low = await open_ticket(api, team=team, assignee_id=agent, priority="low", type="question")
    waiting = await open_ticket(api, team=team, assignee_id=agent, priority="high")
    waiting = (await act(api, waiting, "wait")).json()

    queue = await api.get("/api/v1/tickets/queue", params={"assignee_id": agent})
    assert queue.status_code == 200, queue.text
    assert [t["id"] for t in queue.json()["items"]] == [urgent["id"], low["id"], waiting["id"]]  # paused last
    team_queue = (await api.get("/api/v1/tickets/queue", params={"team": team, "limit": 2})).json()
    assert [t["id"] for t in team_queue["items"]] == [urgent["id"], low["id"]] and team_queue["next_cursor"]
    rest = (
        await api.get("/api/v1/tickets/queue", params={"team": team, "limit": 2, "cursor": team_queue["next_cursor"]})
    ).json()
    assert [t["id"] for t in rest["items"]] == [waiting["id"]] and rest["next_cursor"] is None
    problem(await api.get("/api/v1/tickets/queue"), 400, "invalid-parameter")
    problem(
        await api.get("/api/v1/tickets/queue", params={"team": team, "assignee_id": agent}), 400, "invalid-parameter"
    )

    at_risk = (await api.get("/api/v1/tickets/at-risk", params={"within_minutes": 45, "team": team})).json()
    assert [t["id"] for t in at_risk["items"]] == [urgent["id"]]  # due in 30 min; the others later or paused

    listed = (await api.get("/api/v1/tickets", params={"team": team, "type": "question"})).json()
    assert [t["id"] for t in listed["items"]] == [low["id"]]
    by_status = (
        await api.get("/api/v1/tickets", params=[("team", team), ("status", "new"), ("status", "pending_customer")])
    ).json()
    assert {t["id"] for t in by_status["items"]} == {urgent["id"], low["id"], waiting["id"]}
    due_soon = (
        await api.get(
            "/api/v1/tickets", params={"team": team, "due_before": urgent["sla"]["due_at"].replace("Z", "+00:00")}
        )
    ).json()
    assert due_soon["items"] == []
    assert (await api.get("/api/v1/tickets", params={"team": team, "breached": "true"})).json()["items"] == []
    assert len((await api.get("/api/v1/tickets", params={"customer_id": urgent["customer_id"]})).json()["items"]) == 1
    problem(await api.get("/api/v1/tickets", params={"stauts": "new"}), 400, "invalid-parameter")
    problem(await api.get("/api/v1/tickets", params={"status": "lost"}), 400)


async def test_bad_input(api: httpx.AsyncClient) -> None:
    problem(
        await api.post(
            "/api/v1/tickets",
            json={"customer_id": str(uuid.uuid4()), "type": "rant", "channel": "email", "subject": "x"},
        ),
        422,
    )
    problem(await api.get(f"/api/v1/tickets/{uuid.uuid4()}"), 404, "not-found")
    problem(await api.post(f"/api/v1/tickets/{uuid.uuid4()}/comments", json={"body": "x", "public": True}), 404)
    ticket = await open_ticket(api)
    problem(
        await api.post(
            f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "x", "public": False, "author_type": "customer"}
        ),
        422,
    )
    problem(await api.patch(f"/api/v1/tickets/{ticket['id']}", json={"subject": None}, headers={"If-Match": "*"}), 422)
    # Actions take If-Match optionally (checked when sent); edits require it.
    problem(
        await api.post(f"/api/v1/tickets/{ticket['id']}/start", headers={"If-Match": '"7"'}), 412, "precondition-failed"
    )
    problem(
        await api.post(f"/api/v1/tickets/{ticket['id']}/start", headers={"If-Match": 'W/"1"'}),
        412,
        "precondition-failed",
    )
    problem(await api.patch(f"/api/v1/tickets/{ticket['id']}", json={"priority": "low"}), 428, "precondition-required")
    started = await api.post(f"/api/v1/tickets/{ticket['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "open" and started.headers["etag"] == '"2"', (
        started.text
    )
    problem(await api.post(f"/api/v1/tickets/{ticket['id']}/start"), 409, "illegal-transition")
    problem(await api.post("/api/v1/tickets", content="{}", headers={"content-type": "text/plain"}), 415)


async def test_settings_name_what_changes_answers(api: httpx.AsyncClient) -> None:
    settings = await api.get("/api/v1/tickets/settings")
    assert settings.status_code == 200, settings.text
    body = settings.json()
    assert (
        body["reopen_window_hours"] == 168
        and body["csat_valid_hours"] == 14 * 24
        and body["nps_valid_hours"] == 30 * 24
    )
    assert body["actions"] == {
        "new": ["start", "wait", "resolve"],
        "open": ["wait", "resolve"],
        "pending_customer": ["resume", "resolve"],
        "resolved": ["close", "reopen"],
        "closed": [],
    }
    assert "default_sla_policy_id" in body
