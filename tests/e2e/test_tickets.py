"""Tickets end to end through the gateway: a complaint's life with scopes, a CSAT survey
answered WITHOUT a token, an NPS survey, the customer-360 part, the events on the broker,
and the bad inputs of the issue (comment on a closed ticket, token used twice or expired,
score out of range, overlapping SLA rules)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from relacja_contracts.topics import TICKETS
from relacja_devstack import Stack

from ..integration.tickets.support import act, create_policy, new_team, open_ticket, policy_body, problem
from ..support import event_types, eventually, read_topic


@pytest.fixture
async def agent(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An agent's client: tickets scopes, plus customers for the 360 view."""
    token = stack.token(["tickets:read", "tickets:write", "customers:read"], subject="agent-e2e")
    async with httpx.AsyncClient(
        base_url=stack.gateway_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    ) as client:
        yield client


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(stack.database_url("tickets").replace("+asyncpg", ""))
    try:
        yield connection
    finally:
        await connection.close()


async def test_a_complaint_and_its_csat_survey_answered_without_a_token(
    stack: Stack, agent: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    problem(await anonymous.get("/api/v1/tickets"), 401)
    reader = {"Authorization": f"Bearer {stack.token(['tickets:read'])}"}
    problem(await agent.post("/api/v1/tickets", json={}, headers=reader), 403)

    customer = await agent.post(
        "/api/v1/customers",
        json={"kind": "person", "given_name": "Ewa", "family_name": "Nowak"},
        headers={"Authorization": f"Bearer {stack.token(['customers:write'])}"},
    )
    assert customer.status_code == 201, customer.text
    customer_id = customer.json()["id"]
    team = new_team()
    await create_policy(agent, team)
    ticket = await open_ticket(
        agent, {"Idempotency-Key": uuid.uuid4().hex}, customer_id=customer_id, team=team, assignee_id="agent-e2e"
    )
    queue = (await agent.get("/api/v1/tickets/queue", params={"assignee_id": "agent-e2e"})).json()
    assert ticket["id"] in [t["id"] for t in queue["items"]]

    answer = await agent.post(
        f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "We will replace it.", "public": True}
    )
    assert answer.status_code == 201, answer.text
    ticket = (await agent.get(f"/api/v1/tickets/{ticket['id']}")).json()
    resolved = await act(agent, ticket, "resolve")
    assert resolved.status_code == 200, resolved.text
    survey = resolved.json()["survey"]

    # The customer follows the link: no token at all.
    question = await anonymous.get(survey["url_path"])
    assert question.status_code == 200, question.text
    assert question.json()["kind"] == "csat" and question.json()["answerable"] and question.json()["max_score"] == 5
    problem(await anonymous.post(survey["url_path"], json={"score": 6}), 422, "score-out-of-range")
    problem(await anonymous.post(survey["url_path"], json={"score": 0}), 422, "score-out-of-range")
    answered = await anonymous.post(survey["url_path"], json={"score": 5, "comment": "Quick and kind"})
    assert answered.status_code == 200, answered.text
    assert answered.json()["score"] == 5
    used = problem(await anonymous.post(survey["url_path"], json={"score": 1}), 410, "survey-answered")
    assert "works once" in used["detail"]
    assert (await anonymous.get(survey["url_path"])).json()["answerable"] is False
    problem(await anonymous.get("/api/v1/surveys/" + "x" * 43), 404)

    closed = await act(agent, resolved.json(), "close")
    assert closed.status_code == 200, closed.text
    late = problem(
        await agent.post(
            f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "And another thing", "public": True}
        ),
        409,
        "ticket-closed",
    )
    assert ticket["id"] in late["detail"]

    # The customer-360 view shows the tickets part.
    async def view() -> dict | None:
        body = (await agent.get(f"/api/v1/customers/{customer_id}/360")).json()
        return body if body.get("tickets") else None

    tickets_part = (await eventually(view))["tickets"]
    assert tickets_part["counts"]["closed"] == 1 and tickets_part["open_tickets"] == []
    assert tickets_part["last_satisfaction"]["kind"] == "csat" and tickets_part["last_satisfaction"]["score"] == 5

    # The relay publishes the outbox asynchronously: read until the closure (the last write) is there.
    records = await read_topic(
        stack.bootstrap_servers,
        TICKETS.name,
        header="ce_subject",
        values={customer_id},
        until=lambda found: "relacja.tickets.ticket.closed.v1" in event_types(found),
    )
    kinds = [t.removeprefix("relacja.tickets.") for t in event_types(records)]
    assert kinds == [
        "ticket.opened.v1",
        "ticket.first_responded.v1",
        "ticket.resolved.v1",
        "survey.answered.v1",
        "ticket.closed.v1",
    ]
    answered_event = json.loads(records[3].value)
    assert answered_event["kind"] == "csat" and answered_event["score"] == 5 and answered_event["has_comment"] is True
    assert "comment" not in answered_event and all(r.key.decode() == customer_id for r in records)


async def test_nps_survey_issued_by_an_agent_and_an_expired_token(
    agent: httpx.AsyncClient, anonymous: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    customer_id = str(uuid.uuid4())
    problem(await anonymous.post("/api/v1/surveys", json={"customer_id": customer_id}), 401)
    issued = await agent.post(
        "/api/v1/surveys", json={"customer_id": customer_id}, headers={"Idempotency-Key": uuid.uuid4().hex}
    )
    assert issued.status_code == 201, issued.text
    nps = issued.json()
    assert nps["kind"] == "nps"
    # 0–10 is in the schema (validation-error); the kind's own scale is checked against the survey.
    beyond = problem(await anonymous.post(nps["url_path"], json={"score": 11}), 422, "validation-error")
    assert [e["field"] for e in beyond["errors"]] == ["body.score"]
    answered = await anonymous.post(nps["url_path"], json={"score": 0})
    assert answered.status_code == 200 and answered.json()["kind"] == "nps"

    expiring = (await agent.post("/api/v1/surveys", json={"customer_id": customer_id})).json()
    await db.execute(
        "UPDATE surveys SET expires_at = now() - interval '1 second' WHERE id = $1", uuid.UUID(expiring["id"])
    )
    expired = problem(await anonymous.post(expiring["url_path"], json={"score": 7}), 410, "survey-expired")
    assert "expired" in expired["detail"]
    problem(await agent.post("/api/v1/surveys", json={"customer_id": customer_id, "kind": "csat"}), 422)


async def test_bad_input_through_the_gateway(agent: httpx.AsyncClient) -> None:
    team = new_team()
    overlapping = policy_body(
        team,
        rules=[
            {"priorities": ["urgent"], "types": ["complaint"], "first_response_minutes": 15, "resolution_minutes": 120},
            {"priorities": ["urgent", "high"], "types": [], "first_response_minutes": 30, "resolution_minutes": 240},
        ],
    )
    body = problem(await agent.post("/api/v1/sla-policies", json=overlapping), 422, "overlapping-sla-rules")
    assert body["errors"][0]["field"] == "body.rules.1"
    ticket = await open_ticket(agent, team=team)
    problem(await act(agent, ticket, "close"), 409, "illegal-transition")
    problem(await agent.get("/api/v1/tickets/at-risk", params={"within_minutes": 0}), 400)
    problem(await agent.get("/api/v1/tickets", params={"sort": "priority"}), 400, "invalid-parameter")
    problem(
        await agent.post(
            f"/api/v1/tickets/{ticket['id']}/comments",
            content=b"not json",
            headers={"content-type": "application/json"},
        ),
        400,
    )
