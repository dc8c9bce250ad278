"""SLA breaches are detected by the service's watcher when they happen, once per target,
never for a paused clock; business-time due dates from an office-hours policy."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_tickets.domain.business_time import Calendar, add_business_seconds
from relacja_tickets.workers import flag_breaches

from ...support import eventually
from .support import (
    OFFICE,
    ROUND_THE_CLOCK,
    act,
    create_policy,
    new_team,
    open_ticket,
    policy_body,
    problem,
    ticket_events,
)


async def due_in(db: asyncpg.Connection, ticket_id: str, target: str, seconds: float) -> datetime:
    """Move one clock's due time to ``seconds`` from now (instead of waiting 30 minutes), as a resume would."""
    due = await db.fetchval(
        "UPDATE sla_clocks SET due_at = clock_timestamp() + make_interval(secs => $3) WHERE ticket_id = $1 AND target = $2 RETURNING due_at",
        uuid.UUID(ticket_id),
        target,
        seconds,
    )
    await db.execute("UPDATE tickets SET next_due_at = $2 WHERE id = $1", uuid.UUID(ticket_id), due)
    return due


async def breaches(db: asyncpg.Connection, ticket_id: str) -> list[dict]:
    return [payload for kind, payload in await ticket_events(db, ticket_id) if kind == "sla.breached.v1"]


async def test_breach_is_flagged_within_seconds_of_the_due_time_without_a_read(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    team = new_team()
    policy = await create_policy(api, team)
    ticket = await open_ticket(api, team=team, priority="urgent")
    due = await due_in(db, ticket["id"], "first_response", 1.5)

    async def flagged() -> datetime | None:
        return await db.fetchval(
            "SELECT breached_at FROM sla_clocks WHERE ticket_id = $1 AND target = 'first_response'",
            uuid.UUID(ticket["id"]),
        )

    breached_at = await eventually(flagged, timeout=30)
    assert timedelta(0) <= breached_at - due < timedelta(seconds=5)
    # Another ticket falls due only now: the watcher pass that flags it started after the first
    # breach was committed, and saw the first clock again (its due time has passed too).
    other_team = new_team()  # kept out of the team listing below
    await create_policy(api, other_team)
    later = await open_ticket(api, team=other_team, priority="urgent")
    await due_in(db, later["id"], "first_response", 0.2)

    async def later_flagged() -> list[dict]:
        return await breaches(db, later["id"])

    await eventually(later_flagged, timeout=30)
    events = await breaches(db, ticket["id"])
    assert len(events) == 1
    assert events[0]["target"] == "first_response" and events[0]["policy_id"] == policy["id"]
    assert datetime.fromisoformat(events[0]["due_at"]) == due and events[0]["customer_id"] == ticket["customer_id"]

    shown = (await api.get(f"/api/v1/tickets/{ticket['id']}")).json()
    assert shown["sla"]["breached"] and shown["sla"]["first_response"]["state"] == "breached"
    assert shown["sla"]["resolution"]["state"] == "running"
    listed = (await api.get("/api/v1/tickets", params={"team": team, "breached": "true"})).json()
    assert [t["id"] for t in listed["items"]] == [ticket["id"]]

    # Answering late meets the target but the breach stays on record.
    late = await api.post(
        f"/api/v1/tickets/{ticket['id']}/comments", json={"body": "Sorry for the wait", "public": True}
    )
    assert late.status_code == 201
    responded = [p for kind, p in await ticket_events(db, ticket["id"]) if kind == "ticket.first_responded.v1"]
    assert responded[0]["within_sla"] is False


async def test_a_paused_clock_does_not_breach_and_resumes_with_its_remaining_time(
    api: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    team = new_team()
    await create_policy(api, team)
    ticket = await open_ticket(api, team=team, priority="urgent")
    paused = (await act(api, ticket, "wait")).json()
    assert paused["sla"]["paused"]
    # Used up all but 2 business seconds before the pause.
    await db.execute(
        "UPDATE sla_clocks SET elapsed_seconds = target_seconds - 2 WHERE ticket_id = $1 AND target = 'first_response'",
        uuid.UUID(ticket["id"]),
    )
    await asyncio.sleep(3)
    assert await breaches(db, ticket["id"]) == []

    resumed = await api.post(
        f"/api/v1/tickets/{ticket['id']}/comments",
        json={"body": "Still broken", "public": True, "author_type": "customer"},
    )
    assert resumed.status_code == 201
    shown = (await api.get(f"/api/v1/tickets/{ticket['id']}")).json()
    assert shown["status"] == "open"
    due = datetime.fromisoformat(shown["sla"]["first_response"]["due_at"])
    assert due - datetime.now(UTC) < timedelta(seconds=3)

    async def breached() -> list[dict]:
        return await breaches(db, ticket["id"])

    assert [e["target"] for e in await eventually(breached, timeout=30)] == ["first_response"]


async def test_concurrent_watchers_flag_a_breach_once(
    api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    team = new_team()
    await create_policy(api, team)
    tickets = [await open_ticket(api, team=team, priority="urgent") for _ in range(5)]
    for ticket in tickets:
        await due_in(db, ticket["id"], "resolution", -1)
    # Three more "replicas" besides the service's own watcher.
    now = datetime.now(UTC)
    await asyncio.gather(*(flag_breaches(sessions, now, batch_size=2) for _ in range(3)))

    async def all_flagged() -> bool:
        counts = [len(await breaches(db, t["id"])) for t in tickets]
        return counts == [1] * len(tickets)

    await eventually(all_flagged, timeout=30)
    await asyncio.sleep(1.5)
    for ticket in tickets:
        assert [e["target"] for e in await breaches(db, ticket["id"])] == ["resolution"]


async def test_office_hours_policy_due_times_follow_the_calendar(api: httpx.AsyncClient) -> None:
    team = new_team()
    policy = await create_policy(
        api,
        team,
        working_hours=OFFICE,
        holidays=["2026-12-24", "2026-12-25"],
        rules=[{"priorities": [], "types": [], "first_response_minutes": 120, "resolution_minutes": 2400}],
    )
    assert policy["holidays"] == ["2026-12-24", "2026-12-25"]
    ticket = await open_ticket(api, team=team)
    opened = datetime.fromisoformat(ticket["opened_at"])
    calendar = Calendar(
        ZoneInfo("Europe/Warsaw"),
        {d: [(540, 1020)] for d in range(1, 6)},
        frozenset({datetime(2026, 12, 24).date(), datetime(2026, 12, 25).date()}),
    )
    assert datetime.fromisoformat(ticket["sla"]["first_response"]["due_at"]) == add_business_seconds(
        calendar, opened, 7200
    )
    assert datetime.fromisoformat(ticket["sla"]["resolution"]["due_at"]) == add_business_seconds(
        calendar, opened, 144000
    )


async def test_policy_validation(api: httpx.AsyncClient) -> None:
    team = new_team()
    overlapping = policy_body(
        team,
        rules=[
            {"priorities": ["high"], "types": [], "first_response_minutes": 30, "resolution_minutes": 240},
            {"priorities": [], "types": ["complaint"], "first_response_minutes": 60, "resolution_minutes": 480},
        ],
    )
    body = problem(await api.post("/api/v1/sla-policies", json=overlapping), 422, "overlapping-sla-rules")
    assert body["errors"] == [{"field": "body.rules.1", "message": "overlaps rule 0: both match some (priority, type)"}]
    bad_hours = policy_body(
        team, time_zone="Europe/Atlantis", working_hours={"monday": [{"start": "17:00", "end": "09:00"}]}
    )
    fields = {
        e["field"]
        for e in problem(await api.post("/api/v1/sla-policies", json=bad_hours), 422, "validation-error")["errors"]
    }
    assert fields == {"body.time_zone", "body.working_hours.monday.0"}
    problem(
        await api.post(
            "/api/v1/sla-policies",
            json=policy_body(
                team, rules=[{"priorities": [], "types": [], "first_response_minutes": 0, "resolution_minutes": 10}]
            ),
        ),
        422,
    )

    sparse = policy_body(
        team,
        working_hours={"monday": [{"start": "09:00", "end": "09:01"}]},
        rules=[{"priorities": [], "types": [], "first_response_minutes": 60, "resolution_minutes": 525_600}],
    )
    unreachable = problem(await api.post("/api/v1/sla-policies", json=sparse), 422, "validation-error")
    assert (
        unreachable["errors"][0]["field"] == "body.rules.0" and "not reachable" in unreachable["errors"][0]["message"]
    )

    created = await create_policy(api, team)
    problem(await api.post("/api/v1/sla-policies", json=policy_body(team)), 409, "duplicate-sla-policy")
    replaced = await api.put(
        f"/api/v1/sla-policies/{created['id']}", json=policy_body(team, name="Renamed"), headers={"If-Match": '"1"'}
    )
    assert replaced.status_code == 200 and replaced.json()["name"] == "Renamed" and replaced.headers["etag"] == '"2"'
    problem(
        await api.put(f"/api/v1/sla-policies/{created['id']}", json=policy_body(team), headers={"If-Match": '"1"'}), 412
    )
    problem(
        await api.put(f"/api/v1/sla-policies/{created['id']}", json=overlapping, headers={"If-Match": '"2"'}),
        422,
        "overlapping-sla-rules",
    )
    problem(await api.get(f"/api/v1/sla-policies/{uuid.uuid4()}"), 404)

    # The calendar's shape is in the schema: weekday names, HH:MM, text dates, integer minutes.
    shown = (await api.get(f"/api/v1/sla-policies/{created['id']}")).json()["working_hours"]
    assert shown["monday"] == [{"start": "00:00", "end": "24:00"}] and set(shown) == set(ROUND_THE_CLOCK)
    for bad, field in [
        (
            policy_body(team, working_hours={"Monday": [{"start": "09:00", "end": "17:00"}]}),
            "body.working_hours.Monday",
        ),
        (
            policy_body(team, working_hours={"monday": [{"start": "09:00", "end": "25:00"}]}),
            "body.working_hours.monday.0.end",
        ),
        (policy_body(team, holidays=[0]), "body.holidays.0"),
        (
            policy_body(team, rules=[{"first_response_minutes": "30", "resolution_minutes": 60}]),
            "body.rules.0.first_response_minutes",
        ),
    ]:
        errors = problem(await api.post("/api/v1/sla-policies", json=bad), 422, "validation-error")["errors"]
        assert [e["field"] for e in errors] == [field], errors
    problem(
        await api.put(f"/api/v1/sla-policies/{created['id']}", json=policy_body(team)), 428, "precondition-required"
    )
