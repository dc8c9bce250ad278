"""Kafka client settings shared by the relay and the consumers.

They hold for Apache Kafka and for the local in-memory broker (Tansu) alike:

- ``acks="all"`` without the idempotent or transactional producer: the local broker
  answers those with ``UnknownError``. Exactly-once effects come from the consumer's
  inbox, not from the producer.
- Short session/heartbeat timeouts: group rebalances are slow with the defaults.
- ``fetch_max_wait_ms=50``: a waiting fetch is answered after about half of it, and the
  end-to-end latency budget is 250 ms at p99. That is while data flows: an idle consumer
  lengthens its wait with :func:`set_fetch_wait` (``consumer.py``), since every answered
  fetch costs the broker and the consumer CPU, about 20 fetches a second per consumer.
"""

from __future__ import annotations

from typing import Any

from aiokafka import AIOKafkaConsumer

__all__ = ["producer_options", "consumer_options", "set_fetch_wait", "BUSY_FETCH_WAIT_MS"]

BUSY_FETCH_WAIT_MS = 50


def producer_options(bootstrap: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": bootstrap,
        "acks": "all",
        "enable_idempotence": False,
        "linger_ms": 2,
        "max_batch_size": 262_144,
        "request_timeout_ms": 10_000,
        "retry_backoff_ms": 200,
    }


def consumer_options(bootstrap: str, group_id: str) -> dict[str, Any]:
    return {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 6_000,
        "heartbeat_interval_ms": 1_500,
        "fetch_max_wait_ms": BUSY_FETCH_WAIT_MS,
        "max_poll_records": 500,
        "metadata_max_age_ms": 5_000,
    }


def set_fetch_wait(consumer: AIOKafkaConsumer, wait_ms: int) -> None:
    """Make the started ``consumer``'s next fetch requests wait up to ``wait_ms`` for data.

    aiokafka has no public setter: its fetcher builds every FetchRequest from
    ``_fetch_max_wait_ms`` (aiokafka 0.14, ``Fetcher._get_actions_per_node``), so changing
    it takes effect with the next request. If a future aiokafka renames it, this raises
    rather than silently keeping the short wait (tests/integration/messaging covers it).
    """
    fetcher = consumer._fetcher
    if not hasattr(fetcher, "_fetch_max_wait_ms"):
        raise RuntimeError("aiokafka's fetcher has no _fetch_max_wait_ms; set_fetch_wait needs updating")
    fetcher._fetch_max_wait_ms = wait_ms
