"""An idle consumer waits long on the broker and is back to short waits when data flows;
it reports its lag (``relacja_messaging.progress``) — real PostgreSQL and broker."""

from __future__ import annotations

import time
import uuid

from relacja_contracts.topics import CUSTOMERS
from relacja_devstack import Stack
from relacja_messaging import EventConsumer
from relacja_messaging.consumer import ConsumerSettings
from relacja_messaging.kafka import BUSY_FETCH_WAIT_MS
from relacja_messaging.progress import consumer_lag

from ..support import eventually
from .conftest import effects
from .test_consumer import REPLAYED_WITHIN, count, new_event, recording_handlers, run_consumer, send, stop

IDLE_WAIT_MS = 1500
IDLE = ConsumerSettings(idle_after=3.0, idle_fetch_wait_ms=IDLE_WAIT_MS)


def fetch_wait_ms(consumer: EventConsumer) -> int:
    """What the next FetchRequest of the running consumer will carry (aiokafka's fetcher)."""
    assert consumer._consumer is not None
    return consumer._consumer._fetcher._fetch_max_wait_ms


async def test_an_idle_consumer_waits_long_and_is_back_to_short_waits_when_an_event_arrives(
    stack: Stack, sessions, producer
) -> None:
    name = f"it-idle-{uuid.uuid4().hex[:8]}"
    consumer = EventConsumer(name, recording_handlers(name), sessions, stack.bootstrap_servers, IDLE)
    first, first_payload = new_event()
    await send(producer, first, first_payload.model_dump_json().encode())
    task = await run_consumer(consumer)
    try:
        # A new group starts at the topic's beginning: first it digests the earlier tests' events.
        await eventually(lambda: count(sessions, effects, event_id=first.id), timeout=REPLAYED_WITHIN)

        async def idle() -> bool:
            return consumer._consumer is not None and fetch_wait_ms(consumer) == IDLE_WAIT_MS

        await eventually(idle, timeout=30)
        lag = consumer_lag(name, CUSTOMERS.name)
        assert lag is not None and lag.lag_events == 0 and lag.lag_seconds == 0

        event, payload = new_event()
        await send(producer, event, payload.model_dump_json().encode())
        sent = time.monotonic()
        await eventually(lambda: count(sessions, effects, event_id=event.id), timeout=30)
        # At most one long wait (plus a loaded machine's slack), then short waits again.
        assert time.monotonic() - sent < IDLE_WAIT_MS / 1000 + 5
        assert fetch_wait_ms(consumer) == BUSY_FETCH_WAIT_MS
    finally:
        await stop(task)
    assert consumer_lag(name, CUSTOMERS.name) is None  # a stopped consumer holds no partition
