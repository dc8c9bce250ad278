"""Helpers of the tickets service's integration and end-to-end tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx

from relacja_devstack import StackConfig

__all__ = [
    "new_customer",
    "ROUND_THE_CLOCK",
    "OFFICE",
    "new_team",
    "policy_body",
    "create_policy",
    "open_ticket",
    "problem",
    "ticket_events",
    "act",
]

ROUND_THE_CLOCK = {
    day: [{"start": "00:00", "end": "24:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
OFFICE = {day: [{"start": "09:00", "end": "17:00"}] for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def new_team() -> str:
    """A team no other test uses (each has its own SLA policy)."""
    return f"team-{uuid.uuid4().hex[:10]}"


def policy_body(
    team: str | None, *, working_hours: dict | None = None, rules: list[dict] | None = None, **extra: Any
) -> dict:
    return {
        "name": f"SLA {team}",
        "team": team,
        "time_zone": "Europe/Warsaw",
        "working_hours": working_hours or ROUND_THE_CLOCK,
        "holidays": [],
        "rules": rules
        or [
            {"priorities": ["urgent", "high"], "types": [], "first_response_minutes": 30, "resolution_minutes": 240},
            {"priorities": ["normal", "low"], "types": [], "first_response_minutes": 120, "resolution_minutes": 960},
        ],
        **extra,
    }


async def create_policy(api: httpx.AsyncClient, team: str | None, **kwargs: Any) -> dict:
    response = await api.post("/api/v1/sla-policies", json=policy_body(team, **kwargs))
    assert response.status_code == 201, response.text
    return response.json()


async def new_customer() -> uuid.UUID:
    """A customer committed by the test stack's customers service (directly, not through the
    gateway): the tickets service accepts it at once, by asking the customers service."""
    async with httpx.AsyncClient(
        base_url=StackConfig.for_profile("test").service_url("customers"), timeout=10
    ) as customers:
        response = await customers.post(
            "/api/v1/customers",
            json={"kind": "person", "given_name": "Jan", "family_name": "Ticket" + uuid.uuid4().hex[:8]},
        )
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])


async def open_ticket(api: httpx.AsyncClient, headers: dict | None = None, **body: Any) -> dict:
    """A new ticket; for a new customer unless ``customer_id`` is given."""
    payload = {
        "customer_id": body.pop("customer_id", None) or str(await new_customer()),
        "type": "complaint",
        "channel": "email",
        "priority": "high",
        "subject": "The parcel arrived damaged",
        "description": "The box was crushed, the mug inside is broken.",
        **body,
    }
    response = await api.post("/api/v1/tickets", json=payload, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


async def act(api: httpx.AsyncClient, ticket: dict, action: str) -> httpx.Response:
    """``POST /api/v1/tickets/{id}/<action>`` with the ticket's ETag in If-Match."""
    return await api.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers={"If-Match": f'"{ticket["version"]}"'})


def problem(response: httpx.Response, status: int, type_suffix: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    if type_suffix:
        assert body["type"].endswith(type_suffix), body
    return body


async def ticket_events(db: asyncpg.Connection, ticket_id: str) -> list[tuple[str, dict]]:
    """The ticket's events in the outbox, oldest first, as (short type, payload)."""
    rows = await db.fetch(
        "SELECT event_type, payload FROM outbox_events WHERE payload->>'ticket_id' = $1 ORDER BY id", ticket_id
    )
    return [(row["event_type"].removeprefix("relacja.tickets."), json.loads(row["payload"])) for row in rows]
