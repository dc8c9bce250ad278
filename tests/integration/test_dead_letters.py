"""Dead letters re-driven after a fix: applied once by the consumer that failed, by no other
consumer twice, and not again on a second re-drive — real PostgreSQL and broker. Listed and
re-driven through the operator command, the operator endpoint every event-fed service
serves (relacja_servicekit.dead_letters) and the library under both."""

from __future__ import annotations

import asyncio
import json
import uuid
from functools import partial

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent
from relacja_contracts.events import CustomerRegisteredV1
from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack
from relacja_messaging import EventConsumer, EventHandlers
from relacja_messaging.dead_letters import read_dead_letters, redrive
from relacja_messaging.dead_letters import run as dead_letters_command
from relacja_messaging.tables import inbox_events
from relacja_servicekit.dead_letters import dead_letters_router
from relacja_servicekit.problems import install_problem_handlers

from ..support import eventually
from .conftest import effects
from .test_consumer import FAST_RETRIES, REPLAYED_WITHIN, count, new_event, run_consumer, send, stop


def handlers_for(consumer_name: str, failing: set[str]) -> EventHandlers:
    """Record each applied event as ``<event id>@<consumer>``; fail while the id is in ``failing``."""
    handlers = EventHandlers()

    @handlers.on(CustomerRegisteredV1)
    async def record(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
        if event.id in failing:
            raise ValueError("the projection cannot take this customer yet")
        await session.execute(
            insert(effects).values(
                event_id=f"{event.id}@{consumer_name}", customer_id=payload.customer_id, consumer=consumer_name
            )
        )

    return handlers


def operator_api(consumers: dict[str, EventHandlers], bootstrap: str) -> httpx.AsyncClient:
    """The dead-letter routes a service named ``it`` with these consumer groups would serve."""
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(dead_letters_router("it", consumers, bootstrap))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://it")


async def applied(sessions, event: CloudEvent, consumer: str) -> int:
    return await count(sessions, effects, event_id=f"{event.id}@{consumer}")


async def test_a_dead_letter_redriven_after_the_fix_is_applied_once(
    stack: Stack, sessions, producer, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_consumer, healthy_consumer = (f"it-redrive-{role}-{uuid.uuid4().hex[:8]}" for role in ("a", "b"))
    broken, broken_payload = new_event()
    failing = {broken.id}
    customer = broken_payload.customer_id
    await send(producer, broken, broken_payload.model_dump_json().encode())
    marker, marker_payload = new_event(customer)  # same key and partition, after the broken one
    await send(producer, marker, marker_payload.model_dump_json().encode())
    tasks = [
        await run_consumer(
            EventConsumer(name, handlers_for(name, fails), sessions, stack.bootstrap_servers, FAST_RETRIES)
        )
        for name, fails in ((failing_consumer, failing), (healthy_consumer, set()))
    ]
    try:
        # Both new consumer groups first replay the whole shared topic (every earlier test's
        # customers), two at once: twice the single-consumer allowance.
        for name in (failing_consumer, healthy_consumer):
            await eventually(partial(applied, sessions, marker, name), timeout=2 * REPLAYED_WITHIN)
        assert await applied(sessions, broken, failing_consumer) == 0
        assert await applied(sessions, broken, healthy_consumer) == 1

        # A new consumer group also dead-letters the poison events earlier tests left on the
        # shared topic: only this test's letter is looked at (and re-driven).
        letters = [
            letter
            for letter in await read_dead_letters(stack.bootstrap_servers, CUSTOMERS.name, consumer=failing_consumer)
            if letter.event_id == broken.id
        ]
        assert len(letters) == 1
        assert letters[0].summary()["error"] == "the projection cannot take this customer yet"

        # The operator's listing says the same, one JSON object per letter.
        # (The command runs its own event loop, so it runs in a thread beside the test's.)
        status = await asyncio.to_thread(
            dead_letters_command,
            ["list", "--bootstrap", stack.bootstrap_servers, "--topic", CUSTOMERS.name, "--consumer", failing_consumer],
        )
        assert status == 0
        listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        listed = [row for row in listed if row["event_id"] == broken.id]
        assert [(row["event_id"], row["consumer"], row["error_type"]) for row in listed] == [
            (broken.id, failing_consumer, "ValueError")
        ]

        # The operator endpoint every event-fed service mounts (relacja_servicekit.dead_letters)
        # lists it too, and re-drives it after the fix.
        operator = operator_api(
            {failing_consumer: handlers_for(failing_consumer, set()), healthy_consumer: handlers_for("x", set())},
            stack.bootstrap_servers,
        )
        async with operator:
            page = (
                await operator.get("/api/v1/it/dead-letters", params={"topic": CUSTOMERS.name, "limit": 500})
            ).json()
            mine = [item for item in page["items"] if item["event_id"] == broken.id]
            assert [(item["consumer"], item["error_type"], item["topic"]) for item in mine] == [
                (failing_consumer, "ValueError", CUSTOMERS.name)
            ]
            unknown = await operator.post(
                "/api/v1/it/dead-letters/redrive", json={"topic": CUSTOMERS.name, "event_ids": [str(uuid.uuid4())]}
            )
            assert unknown.status_code == 422 and unknown.json()["type"].endswith("unknown-dead-letter")
            neither = await operator.post("/api/v1/it/dead-letters/redrive", json={"topic": CUSTOMERS.name})
            assert neither.status_code == 422

            failing.clear()  # the fix
            redriven = await operator.post(
                "/api/v1/it/dead-letters/redrive", json={"topic": CUSTOMERS.name, "event_ids": [broken.id]}
            )
            assert redriven.status_code == 200, redriven.text
            assert redriven.json() == {"topic": CUSTOMERS.name, "redriven": 1, "event_ids": [broken.id]}
        await eventually(lambda: applied(sessions, broken, failing_consumer), timeout=REPLAYED_WITHIN)

        # A second re-drive, then a marker behind it: both consumers have seen the re-driven
        # copies once the marker is applied, and neither applied the event a second time.
        assert await redrive(stack.bootstrap_servers, letters) == 1
        second_marker, second_payload = new_event(customer)
        await send(producer, second_marker, second_payload.model_dump_json().encode())
        for name in (failing_consumer, healthy_consumer):
            await eventually(partial(applied, sessions, second_marker, name), timeout=REPLAYED_WITHIN)
    finally:
        for task in tasks:
            await stop(task)
    assert await applied(sessions, broken, failing_consumer) == 1
    assert await applied(sessions, broken, healthy_consumer) == 1
    async with sessions() as session:
        outcome = await session.scalar(
            select(inbox_events.c.outcome).where(
                inbox_events.c.consumer == failing_consumer, inbox_events.c.event_id == broken.id
            )
        )
    assert outcome == "applied"
