"""The upcoming-date announcer against the real PostgreSQL and broker: which dates are
announced, exactly once per (date, occurrence year) — across repeated and concurrent runs —
and the ``ImportantDateUpcomingV1`` events on ``relacja.customers``.

The run is called directly with the ``today`` a test needs (the service's own daily run
uses the real date); assertions look only at this test's customer.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from relacja_contracts.topics import CUSTOMERS
from relacja_customers.workers import announce_upcoming
from relacja_devstack import Stack

from ...support import event_types, read_topic
from .support import logged_events, new_customer, post_created

UPCOMING = "relacja.customers.important_date.upcoming.v1"


async def add_date(api: httpx.AsyncClient, customer_id: str, **body: object) -> str:
    return (await post_created(api, f"/api/v1/customers/{customer_id}/important-dates", body))["id"]


async def announced(db: asyncpg.Connection, customer_id: str) -> list[dict]:
    """The upcoming-date events in the customer's event log, oldest first."""
    return [payload for _, payload in await logged_events(db, customer_id, UPCOMING)]


async def test_dates_within_the_lead_time_are_announced_once(
    stack: Stack, api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer_id = await new_customer(api)
    # today = 2030-02-25 (2030 is a common year): the window is 25 Feb – 4 Mar.
    today_date = await add_date(api, customer_id, kind="name_day", month=2, day=25)
    leap = await add_date(api, customer_id, kind="birthday", month=2, day=29, year=2000, label="leapling")
    last_day = await add_date(api, customer_id, kind="purchase_anniversary", month=3, day=4, year=2020)
    await add_date(api, customer_id, kind="custom", month=3, day=5, label="one day too late")
    await add_date(api, customer_id, kind="custom", month=2, day=24, label="yesterday")

    await announce_upcoming(sessions, today=date(2030, 2, 25), lead_days=7)

    events = await announced(db, customer_id)
    assert [(e["important_date_id"], e["occurs_on"], e["days_ahead"]) for e in events] == [
        (today_date, "2030-02-25", 0),
        (leap, "2030-02-28", 3),
        (last_day, "2030-03-04", 7),
    ]
    assert events[1]["kind"] == "birthday" and events[1]["label"] == "leapling"
    claims = await db.fetch(
        "SELECT important_date_id, occurrence_year, occurs_on FROM important_date_announcements a"
        " JOIN important_dates d ON d.id = a.important_date_id WHERE d.customer_id = $1 ORDER BY occurs_on",
        uuid.UUID(customer_id),
    )
    assert [(str(c["important_date_id"]), c["occurrence_year"], c["occurs_on"]) for c in claims] == [
        (today_date, 2030, date(2030, 2, 25)),
        (leap, 2030, date(2030, 2, 28)),
        (last_day, 2030, date(2030, 3, 4)),
    ]

    # The next day's run (and any re-run) announces nothing new for these occurrences.
    await announce_upcoming(sessions, today=date(2030, 2, 25), lead_days=7)
    await announce_upcoming(sessions, today=date(2030, 2, 26), lead_days=7)
    assert len(await announced(db, customer_id)) == 4  # only 5 March joined the window
    assert (await announced(db, customer_id))[-1]["occurs_on"] == "2030-03-05"

    # The service's relay publishes these outbox rows asynchronously: read until all four are there.
    records = await read_topic(
        stack.bootstrap_servers,
        CUSTOMERS.name,
        header="ce_subject",
        values={customer_id},
        until=lambda found: event_types(found).count(UPCOMING) >= 4,
    )
    published = [json.loads(r.value) for r in records if dict(r.headers)["ce_type"].decode() == UPCOMING]
    assert sorted(p["occurs_on"] for p in published) == ["2030-02-25", "2030-02-28", "2030-03-04", "2030-03-05"]
    assert all(r.key == customer_id.encode() for r in records)


async def test_concurrent_runs_announce_each_occurrence_exactly_once(
    api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer_id = await new_customer(api)
    ids = [
        await add_date(api, customer_id, kind="custom", month=11, day=day, label=f"nov {day}") for day in (10, 11, 12)
    ]

    # Two "replicas" at once, with small batches so that they interleave.
    await asyncio.gather(
        *(announce_upcoming(sessions, today=date(2031, 11, 9), lead_days=7, batch_size=2) for _ in range(4))
    )
    events = await announced(db, customer_id)
    assert sorted(e["important_date_id"] for e in events) == sorted(ids)

    # Another year is another occurrence.
    await announce_upcoming(sessions, today=date(2032, 11, 9), lead_days=7)
    events = await announced(db, customer_id)
    assert len(events) == 6 and {e["occurs_on"][:4] for e in events} == {"2031", "2032"}


async def test_a_new_year_window_announces_next_years_dates(
    api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer_id = await new_customer(api)
    january = await add_date(api, customer_id, kind="birthday", month=1, day=2, year=1999)
    await announce_upcoming(sessions, today=date(2033, 12, 28), lead_days=7)
    events = await announced(db, customer_id)
    assert [(e["important_date_id"], e["occurs_on"], e["days_ahead"]) for e in events] == [(january, "2034-01-02", 5)]
    claim = await db.fetchrow(
        "SELECT occurrence_year FROM important_date_announcements WHERE important_date_id = $1", uuid.UUID(january)
    )
    assert claim is not None
    assert claim["occurrence_year"] == 2034


async def test_a_deleted_date_is_not_announced(
    api: httpx.AsyncClient, db: asyncpg.Connection, sessions: async_sessionmaker[AsyncSession]
) -> None:
    customer_id = await new_customer(api)
    date_id = await add_date(api, customer_id, kind="custom", month=8, day=8, label="gone")
    assert (await api.delete(f"/api/v1/customers/{customer_id}/important-dates/{date_id}")).status_code == 204
    await announce_upcoming(sessions, today=date(2035, 8, 5), lead_days=7)
    assert await announced(db, customer_id) == []
