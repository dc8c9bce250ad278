"""Explicit topic declaration.

Topics are created from the contracts (name and partition count), each with its
dead-letter topic, before services start and again by the relay after a broker lost its
state. Relying on auto-creation would let a typo make a topic and would give whatever
partition count the broker defaults to.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from relacja_contracts import ALL_TOPICS, Topic

__all__ = ["declare_topics", "with_dead_letters"]

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


def with_dead_letters(topics: Iterable[Topic]) -> list[Topic]:
    result: list[Topic] = []
    for topic in topics:
        result += [topic, topic.dead_letter]
    return result


async def declare_topics(
    bootstrap: str, topics: Iterable[Topic] = ALL_TOPICS, *, replication_factor: int = 1
) -> list[str]:
    """Create every topic (and its ``.dlq``) that does not exist yet; returns the names created.

    An existing topic with another partition count is reported, not changed: Kafka cannot
    shrink a topic, and per-key order holds for any fixed count.
    """
    wanted = {t.name: t for t in with_dead_letters(topics)}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for name, t in wanted.items() if name not in existing]
        if missing:
            response = await admin.create_topics(
                [NewTopic(t.name, num_partitions=t.partitions, replication_factor=replication_factor) for t in missing]
            )
            for name, code, message in response.topic_errors:
                if code not in (0, _TOPIC_ALREADY_EXISTS):
                    raise RuntimeError(f"could not create topic {name}: error {code} {message}")
        present = [name for name in wanted if name in existing]
        if present:
            for description in await admin.describe_topics(present):
                declared = wanted[description["topic"]].partitions
                actual = len(description["partitions"])
                if actual != declared:
                    log.warning(
                        "topic has %d partitions, the contract declares %d",
                        actual,
                        declared,
                        extra={"topic": description["topic"]},
                    )
        return [t.name for t in missing]
    finally:
        await admin.close()
