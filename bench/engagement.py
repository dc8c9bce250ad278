"""The engagement service: campaign planning, sending to the SMTP sink, trigger evaluation.

    make bench-engagement
    python -m bench.engagement [--audience 1000000] [--messages 5000] [--events 10000]

Method. The bench stack runs PostgreSQL, the broker, the SMTP sink and the engagement
service (its consumer ``engagement.triggers``, relay and sender). The customers service
is not started: the customers' contact details are written into the projection with
``profile_fetched_at`` set, so the sender never needs to read them through. The policy
is set to no quiet hours and no caps (they are per-message arithmetic in the sender).

1. Planning (target: 1,000,000 customers in ≤ 60 s). Setup, not timed: ``--audience``
   customers in ``known_customers`` (with an e-mail), an e-mail consent each (9 in 10
   granted) and all of them members of one segment, set-based over ``generate_series``,
   then ``VACUUM ANALYZE``. Timed: ``POST /api/v1/engagement/campaigns`` (holdout 10 %,
   ``send_at`` a year ahead so the sender leaves it alone), client-side wall time: the
   one ``INSERT ... SELECT`` that draws the holdout, applies state, suppression and
   consent and writes every message row, plus the counts the answer carries.
2. Sending (target: ≥ 500 messages/s to the local SMTP sink). Setup, not timed:
   ``--messages`` scheduled messages due in a year, for consenting customers. Timed: from
   making them due (one UPDATE) until the last is ``sent`` (polled every 0.2 s): claim,
   checks, rendering, SMTP to the sink (which writes one .eml file each), MessageSentV1.
3. Trigger evaluation (target: 2,000 events/s). One enabled birthday trigger (delay one
   year, so the sender stays idle). Timed: ``--events`` ``ImportantDateUpcomingV1``
   events for random audience customers, published as fast as the producer takes them,
   until the latest inbox ``processed_at`` of them: each batch of events is one
   evaluation (``on_batch``): the projection reads and one multi-row INSERT of messages.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from relacja_contracts import CloudEvent, to_kafka_headers
from relacja_contracts.events import ImportantDateUpcomingV1
from relacja_messaging.kafka import producer_options

from ._stack import bench_stack, load_average

TARGET_PLANNING_SECONDS = 60.0
TARGET_SEND_RATE = 500.0
TARGET_EVENTS_PER_SECOND = 2000.0

AUDIENCE_SQL = """
WITH people AS (
    SELECT g, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid AS id FROM generate_series(1, $1) AS g
), customers AS (
    INSERT INTO known_customers (customer_id, state, display_name, given_name, email, preferred_language,
                                 country, lifecycle_stage, profile_fetched_at)
    SELECT id, 'active', 'Customer ' || g, 'Ada', 'c' || g || '@bench.example', 'en', 'PL', 'customer', now()
    FROM people RETURNING customer_id
), consents AS (
    INSERT INTO eng_consents (customer_id, purpose, granted, occurred_at)
    SELECT id, 'email_marketing', g % 10 <> 0, now() FROM people RETURNING customer_id
)
INSERT INTO eng_segment_members (segment_id, customer_id, segment_name, occurred_at)
SELECT $2, id, 'bench', now() FROM people
"""


def customer_id(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{n:012x}")


async def template(api: httpx.AsyncClient) -> str:
    created = await api.post(
        "/api/v1/engagement/templates",
        json={
            "name": "Bench",
            "channel": "email",
            "purpose": "marketing",
            "fallback_language": "en",
            "variants": [{"language": "en", "subject": "Hello {{ customer.given_name }}", "body": "News for you."}],
        },
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def planning(db: asyncpg.Connection, api: httpx.AsyncClient, template_id: str, args: argparse.Namespace) -> None:
    segment = uuid.uuid4()
    started = time.perf_counter()
    await db.execute(AUDIENCE_SQL, args.audience, segment)
    await db.execute("VACUUM ANALYZE known_customers, eng_consents, eng_segment_members")
    print(f"setup: {args.audience:,} customers, consents and segment members in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    created = await api.post(
        "/api/v1/engagement/campaigns",
        json={
            "name": "Bench",
            "segment_id": str(segment),
            "template_id": template_id,
            "holdout_percent": "10",
            "send_at": datetime(datetime.now(UTC).year + 1, 1, 1, tzinfo=UTC).isoformat(),
        },
    )
    elapsed = time.perf_counter() - started
    assert created.status_code == 201, created.text
    body = created.json()
    print(
        f"planning: {body['audience_size']:,} customers planned in {elapsed:.1f} s "
        f"({body['audience_size'] / elapsed:,.0f}/s; target ≤ {TARGET_PLANNING_SECONDS:.0f} s at 1,000,000) "
        f"— {body['planned']}"
    )


async def sending(db: asyncpg.Connection, template_id: str, args: argparse.Namespace) -> None:
    await db.execute(
        """
        INSERT INTO eng_messages (id, customer_id, channel, purpose, template_id, occurrence_key, status, due_at)
        SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'email', 'marketing',
               $1, 'bench-send:' || g, 'scheduled', now() + interval '365 days'
        FROM generate_series(1, $2 * 10) AS g WHERE g % 10 <> 0 LIMIT $2
        """,
        uuid.UUID(template_id),
        args.messages,
    )
    started = time.perf_counter()
    await db.execute("UPDATE eng_messages SET due_at = now() WHERE occurrence_key LIKE 'bench-send:%'")
    while True:
        sent = await db.fetchval(
            "SELECT count(*) FROM eng_messages WHERE occurrence_key LIKE 'bench-send:%' AND status = 'sent'"
        )
        if sent >= args.messages:
            break
        if time.perf_counter() - started > 900:
            raise SystemExit(f"sending: only {sent} of {args.messages} sent after 900 s")
        await asyncio.sleep(0.2)
    elapsed = time.perf_counter() - started
    other = await db.fetch(
        "SELECT status, count(*) FROM eng_messages WHERE occurrence_key LIKE 'bench-send:%' GROUP BY status"
    )
    print(
        f"sending: {args.messages:,} e-mails to the SMTP sink in {elapsed:.1f} s = {args.messages / elapsed:,.0f}/s "
        f"(target ≥ {TARGET_SEND_RATE:.0f}/s) — { {r[0]: r[1] for r in other} }"
    )


async def evaluation(
    db: asyncpg.Connection, api: httpx.AsyncClient, bootstrap: str, template_id: str, args: argparse.Namespace
) -> None:
    created = await api.post(
        "/api/v1/engagement/triggers",
        json={
            "name": "Bench birthdays",
            "event": "important_date.upcoming",
            "conditions": {"important_date_kinds": ["birthday"]},
            "delay_seconds": 365 * 86400,
            "channel": "email",
            "template_id": template_id,
            "enabled": True,
        },
    )
    assert created.status_code == 201, created.text
    rng = random.Random(20261205)
    events = []
    for _ in range(args.events):
        payload = ImportantDateUpcomingV1(
            customer_id=customer_id(rng.randrange(1, args.audience + 1)),
            important_date_id=uuid.uuid4(),
            kind="birthday",
            occurs_on=date(2026, 12, 24),
            days_ahead=3,
        )
        event = CloudEvent.for_payload(payload, source="/relacja/bench")
        events.append((event, payload))
    producer = AIOKafkaProducer(**producer_options(bootstrap))
    await producer.start()
    try:
        started_wall = datetime.now(UTC)
        started = time.perf_counter()
        for event, payload in events:
            await producer.send(
                payload.topic.name,
                value=payload.model_dump_json().encode(),
                key=event.subject.encode(),
                headers=to_kafka_headers(event),
            )
        await producer.flush()
        published = time.perf_counter() - started
    finally:
        await producer.stop()
    ids = [e.id for e, _ in events]
    while True:
        done = await db.fetchval(
            "SELECT count(*) FROM inbox_events WHERE consumer = 'engagement.triggers' AND event_id = ANY($1::text[])",
            ids,
        )
        if done >= len(ids):
            break
        if time.perf_counter() - started > 900:
            raise SystemExit(f"evaluation: only {done} of {len(ids)} applied after 900 s")
        await asyncio.sleep(0.2)
    last = await db.fetchval(
        "SELECT max(processed_at) FROM inbox_events WHERE consumer = 'engagement.triggers' AND event_id = ANY($1::text[])",
        ids,
    )
    elapsed = (last - started_wall).total_seconds()
    written = await db.fetchval(
        "SELECT count(*) FROM eng_messages WHERE trigger_id = $1", uuid.UUID(created.json()["id"])
    )
    print(
        f"trigger evaluation: {len(ids):,} events in {elapsed:.1f} s = {len(ids) / elapsed:,.0f} events/s "
        f"(published in {published:.1f} s; target {TARGET_EVENTS_PER_SECOND:,.0f}/s) — {written:,} messages written"
    )


async def main(args: argparse.Namespace) -> None:
    async with bench_stack(services=["engagement"]) as stack:
        db = await asyncpg.connect(stack.database_url("engagement").replace("+asyncpg", ""))
        api = httpx.AsyncClient(base_url=stack.service_url("engagement"), trust_env=False, timeout=900)
        try:
            await db.execute("UPDATE eng_policy SET quiet_hours_start = NULL, quiet_hours_end = NULL, caps = '[]'")
            template_id = await template(api)
            await planning(db, api, template_id, args)
            print(load_average())
            if args.messages:
                await sending(db, template_id, args)
                print(load_average())
            if args.events:
                await evaluation(db, api, stack.bootstrap_servers, template_id, args)
                print(load_average())
        finally:
            await api.aclose()
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audience", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--events", type=int, default=10_000)
    asyncio.run(main(parser.parse_args()))
