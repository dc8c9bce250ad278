"""Reliable messaging between Relacja services.

Map of the package:

    tables.py      the outbox, inbox and relay-watermark tables every service database has
    migrations.py  create_messaging_tables(): today's tables in a scratch database (tests, benchmarks)
    outbox.py      Outbox: the one event writer — add() one event, add_many() a batch, insert_select_sql()
                   for a set built in SQL — through the caller's session, in its transaction
    relay.py       OutboxRelay: publish outbox rows to Kafka in order; detect a broker that lost them and replay
    replay.py      operator command: publish the retained outbox again
    retention.py   batched deletes of rows past their retention; the inbox's retention
    consumer.py    EventConsumer: idempotent (inbox) consumer with retries and a dead-letter topic;
                   waits longer on the broker when idle
    progress.py    each consumer's lag in events and seconds: metrics, freshness, backlog log lines
    notify.py      Notifications: sleep on LISTEN/NOTIFY with a slow poll as the net (relay, workers)
    handlers.py    EventHandlers: typed handler registry (the payload model is the contract)
    freshness.py   how fresh a read model is: last applied event time and lag per (consumer, topic)
    topics.py      declare_topics(): explicit topic creation from the contracts
    kafka.py       the broker client settings that work with both Apache Kafka and the local broker
    errors.py      which failures are transient (retry forever) and which are the message's fault
    driver.py      asyncpg_connection(): the driver connection under a session, for COPY
    tracing.py     the trace context carried from requests into events and from events into handlers

Delivery is at-least-once; effects are exactly-once because a consumer records each
applied event id in the same transaction as the effect.
"""

from .consumer import EventConsumer
from .handlers import EventHandlers
from .outbox import Outbox, OutboxRecord, WrittenEvent
from .relay import OutboxRelay
from .topics import declare_topics

__all__ = ["EventConsumer", "EventHandlers", "Outbox", "OutboxRecord", "OutboxRelay", "WrittenEvent", "declare_topics"]
