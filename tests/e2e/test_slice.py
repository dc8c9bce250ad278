"""The platform slice, end to end through the gateway, against the real PostgreSQL and broker:

POST /api/v1/customers → outbox → relay → relacja.customers (CloudEvents headers)
→ segmentation consumer (inbox) → customer_profiles projection.
"""

from __future__ import annotations

import asyncio
import re
import uuid

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack
from relacja_messaging.kafka import producer_options

from ..support import applied, event_types, eventually, read_topic

CONSUMER = "segmentation.projection"
UPDATED = "relacja.customers.customer.updated.v1"
INBOX_ROW = 'SELECT partition, "offset", processed_at FROM inbox_events WHERE consumer = $1 AND event_id = $2'


def new_customer(**overrides: object) -> dict:
    body = {"kind": "person", "display_name": "Anna Kowalska", "email": f"anna.{uuid.uuid4().hex[:10]}@example.com"}
    return body | overrides


async def projection(gateway: httpx.AsyncClient, customer_id: str) -> dict | None:
    response = await gateway.get(f"/api/v1/segmentation/customers/{customer_id}")
    return response.json() if response.status_code == 200 else None


async def find_on_topic(stack: Stack, subject: str):
    """The (first) event about customer ``subject`` on relacja.customers."""
    records = await read_topic(stack.bootstrap_servers, CUSTOMERS.name, header="ce_subject", values={subject})
    return records[0]


async def consumer_metric(stack: Stack, outcome: str) -> float:
    async with httpx.AsyncClient(base_url=stack.service_url("segmentation")) as client:
        text = (await client.get("/metrics")).text
    pattern = rf'relacja_consumer_events_total{{consumer="segmentation.projection",outcome="{outcome}"}} ([0-9.e+]+)'
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


async def test_created_customer_reaches_the_projection_through_the_broker(
    stack: Stack, gateway: httpx.AsyncClient
) -> None:
    response = await gateway.post("/api/v1/customers", json=new_customer(), headers={"X-Request-ID": "e2e-create-1"})
    assert response.status_code == 201, response.text
    customer = response.json()
    assert response.headers["location"] == f"/api/v1/customers/{customer['id']}"
    assert response.headers["etag"] == '"1"'
    assert response.headers["x-request-id"] == "e2e-create-1"

    record = await find_on_topic(stack, customer["id"])
    headers = dict(record.headers)
    assert headers["ce_specversion"] == b"1.0"
    assert headers["ce_type"] == b"relacja.customers.customer.registered.v1"
    assert headers["ce_source"] == b"/relacja/customers"
    assert headers["content-type"] == b"application/json"
    assert re.match(rb"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$", headers["traceparent"])
    assert record.key == customer["id"].encode()

    profile = await eventually(lambda: projection(gateway, customer["id"]))
    assert profile["kind"] == "person" and profile["lifecycle_stage"] == "lead"

    fetched = await gateway.get(f"/api/v1/customers/{customer['id']}")
    assert fetched.status_code == 200 and fetched.json() == customer


async def test_the_same_event_delivered_twice_changes_nothing(stack: Stack, gateway: httpx.AsyncClient) -> None:
    customer = (await gateway.post("/api/v1/customers", json=new_customer())).json()
    before = await eventually(lambda: projection(gateway, customer["id"]))
    record = await find_on_topic(stack, customer["id"])
    event_id = dict(record.headers)["ce_id"].decode()
    db = await asyncpg.connect(stack.database_url("segmentation").replace("+asyncpg", ""))
    try:
        inbox_row = await db.fetchrow(INBOX_ROW, CONSUMER, event_id)
        assert inbox_row is not None
        assert (inbox_row["partition"], inbox_row["offset"]) == (record.partition, record.offset)
        duplicates_before = await consumer_metric(stack, "duplicate")

        producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
        await producer.start()
        try:
            sent = await producer.send_and_wait(
                CUSTOMERS.name, value=record.value, key=record.key, headers=list(record.headers)
            )
        finally:
            await producer.stop()

        # A later event about the same customer (same key, same partition): once the consumer has
        # applied it, it has been through the duplicate too — a partition is consumed in order.
        updated = await gateway.patch(
            f"/api/v1/customers/{customer['id']}", json={"owner_id": "agent-dup"}, headers={"If-Match": '"1"'}
        )
        assert updated.status_code == 200, updated.text
        update = next(
            r
            for r in await read_topic(
                stack.bootstrap_servers,
                CUSTOMERS.name,
                header="ce_subject",
                values={customer["id"]},
                until=lambda records: UPDATED in event_types(records),
            )
            if dict(r.headers)["ce_type"].decode() == UPDATED
        )
        assert update.partition == sent.partition and update.offset > sent.offset
        await eventually(lambda: applied(db, CONSUMER, dict(update.headers)["ce_id"].decode()))

        # The duplicate was not applied again: the inbox still holds the first delivery only.
        assert [tuple(row) for row in await db.fetch(INBOX_ROW, CONSUMER, event_id)] == [tuple(inbox_row)]
    finally:
        await db.close()
    await eventually(lambda: _increased(stack, "duplicate", duplicates_before))  # counted after the commit
    after = await projection(gateway, customer["id"])
    assert after is not None
    assert {**after, "updated_at": None} == {**before, "updated_at": None}  # the owner is not projected


async def _increased(stack: Stack, outcome: str, before: float) -> bool:
    return await consumer_metric(stack, outcome) > before


async def test_a_poison_event_is_dead_lettered_and_the_consumer_goes_on(
    stack: Stack, gateway: httpx.AsyncClient
) -> None:
    dead_before = await consumer_metric(stack, "dead_lettered")
    subject = str(uuid.uuid4())
    producer = AIOKafkaProducer(**producer_options(stack.bootstrap_servers))
    await producer.start()
    try:
        await producer.send_and_wait(
            CUSTOMERS.name,
            value=b'{"customer_id": "' + subject.encode() + b'", "kind": "alien"}',
            key=subject.encode(),
            headers=[
                ("ce_specversion", b"1.0"),
                ("ce_id", str(uuid.uuid4()).encode()),
                ("ce_source", b"/e2e"),
                ("ce_type", b"relacja.customers.customer.registered.v1"),
                ("ce_subject", subject.encode()),
                ("ce_time", b"2026-11-22T12:00:00Z"),
            ],
        )
    finally:
        await producer.stop()
    await eventually(lambda: _increased(stack, "dead_lettered", dead_before))
    customer = (await gateway.post("/api/v1/customers", json=new_customer())).json()
    assert await eventually(lambda: projection(gateway, customer["id"]))


async def relay_replays(stack: Stack) -> float:
    async with httpx.AsyncClient(base_url=stack.service_url("customers")) as client:
        match = re.search(r"^relacja_outbox_replays_total ([0-9.e+]+)$", (await client.get("/metrics")).text, re.M)
    return float(match.group(1)) if match else 0.0


async def test_broker_restart_mid_stream_loses_nothing(stack: Stack, gateway: httpx.AsyncClient) -> None:
    """The broker keeps its log in memory: a restart empties it. The relays replay their outboxes.

    Customers are created continuously while the broker is stopped and started again; every
    one of them must reach the segmentation projection.
    """
    created: list[str] = []
    replays_before = await relay_replays(stack)
    streaming = True

    async def stream() -> None:
        while streaming:
            response = await gateway.post("/api/v1/customers", json=new_customer())
            assert response.status_code == 201, response.text  # writes are accepted while the broker is down
            created.append(response.json()["id"])
            await asyncio.sleep(0.05)

    async def more_writes(count: int) -> None:
        """Wait until ``count`` more customers were created — before, during and after the
        outage — rather than for a fixed time: a loaded machine may answer only a few writes a second."""
        target = len(created) + count

        async def reached() -> bool:
            return (
                len(created) >= target or producer.done()
            )  # a failed write ends the stream: `await producer` raises it

        await eventually(reached, timeout=60)

    producer = asyncio.create_task(stream())
    try:
        await more_writes(10)
        await stack.stop_broker()
        await asyncio.sleep(1.0)
        async with httpx.AsyncClient(base_url=stack.service_url("customers")) as direct:
            ready = await direct.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["broker"].startswith("unavailable")
        assert "retry-after" in ready.headers
        await more_writes(10)  # accepted while the broker is down
        await stack.start_broker()
        await more_writes(10)
    finally:
        streaming = False
        await producer

    async def all_projected() -> bool:
        connection = await asyncpg.connect(stack.database_url("segmentation").replace("+asyncpg", ""))
        try:
            found = await connection.fetchval(
                "SELECT count(*) FROM customer_profiles WHERE customer_id = ANY($1::uuid[])", created
            )
        finally:
            await connection.close()
        return found == len(created)

    await eventually(all_projected, timeout=90, interval=0.5)
    assert await relay_replays(stack) > replays_before
