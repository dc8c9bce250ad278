"""Dead letters: list a topic's, and re-drive chosen ones to the topic they came from.

    python -m relacja_messaging.dead_letters list --bootstrap HOST:PORT --topic relacja.orders \
        [--consumer segmentation.projection] [--since 2026-12-01T00:00:00Z]
    python -m relacja_messaging.dead_letters redrive --bootstrap HOST:PORT --topic relacja.orders \
        (--event-id ID [--event-id ID ...] | --since TIME | --all) [--consumer NAME]

A consumer that cannot apply a record sends it to ``<topic>.dlq`` with ``dlq_*`` headers
naming the consumer and the error (consumer.py), and records the event in its inbox as
``dead_lettered``, so that a replay of the topic does not dead-letter it again.

Re-driving, after the cause is fixed, publishes the original record — value, key and
CloudEvents headers, so the event keeps its id — to the topic it came from, with one more
header, ``relacja_redrive_for``, naming the consumer that failed. That consumer, and only
it, applies an event whose inbox row says ``dead_lettered`` again when the record carries
the header for it; every other consumer of the topic finds the event in its inbox as
applied and skips it. The inbox therefore still makes a re-driven event harmless: it is
applied at most once per consumer, however often it is re-driven. A record that fails
again is dead-lettered again (a new dead letter, listed with the old one).

The listing reads the dead-letter topic from its beginning without a consumer group, so
it moves no offsets and can be repeated.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from relacja_contracts import dead_letter_topic

from .kafka import producer_options

__all__ = ["REDRIVE_HEADER", "DeadLetter", "read_dead_letters", "redrive", "run", "main"]

REDRIVE_HEADER = "relacja_redrive_for"
REDRIVEN_AT_HEADER = "relacja_redriven_at"
_DLQ_PREFIX = "dlq_"


@dataclass(frozen=True)
class DeadLetter:
    """One record of a dead-letter topic, with what its ``dlq_*`` headers say."""

    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode(errors="replace")
        return None

    @property
    def event_id(self) -> str | None:
        return self.header("ce_id")

    @property
    def consumer(self) -> str | None:
        return self.header("dlq_consumer")

    @property
    def source_topic(self) -> str | None:
        return self.header("dlq_source_topic")

    @property
    def failed_at(self) -> datetime | None:
        raw = self.header("dlq_failed_at")
        return datetime.fromisoformat(raw) if raw else None

    def summary(self) -> dict[str, object]:
        failed_at = self.failed_at
        return {
            "partition": self.partition,
            "offset": self.offset,
            "event_id": self.event_id,
            "event_type": self.header("ce_type"),
            "consumer": self.consumer,
            "error_type": self.header("dlq_error_type"),
            "error": self.header("dlq_error"),
            "failed_at": failed_at.isoformat() if failed_at else None,
            "source": f"{self.source_topic}[{self.header('dlq_source_partition')}]@{self.header('dlq_source_offset')}",
            "redriven_before": self.header(REDRIVE_HEADER) is not None,
        }


async def read_dead_letters(
    bootstrap: str, topic: str, *, consumer: str | None = None, since: datetime | None = None
) -> list[DeadLetter]:
    """Every dead letter of ``topic`` (the source topic's name), oldest first per partition.

    ``consumer`` keeps only those that consumer dead-lettered; ``since`` only those that
    failed at or after that time."""
    dlq = dead_letter_topic(topic)
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await reader.start()
    try:
        if dlq not in await reader.topics():  # fetches the cluster's metadata
            return []
        partitions = [TopicPartition(dlq, p) for p in sorted(reader.partitions_for_topic(dlq) or ())]
        if not partitions:
            return []
        reader.assign(partitions)
        await reader.seek_to_beginning(*partitions)
        ends = await reader.end_offsets(partitions)
        letters: list[DeadLetter] = []
        remaining = {tp for tp in partitions if ends[tp] > 0}
        while remaining:
            batch = await reader.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    if record.offset < ends[tp]:
                        letters.append(
                            DeadLetter(
                                partition=tp.partition,
                                offset=record.offset,
                                key=record.key,
                                value=record.value,
                                headers=tuple((k, bytes(v)) for k, v in record.headers),
                            )
                        )
                if await reader.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await reader.stop()
    return [
        letter
        for letter in letters
        if (consumer is None or letter.consumer == consumer)
        and (since is None or (letter.failed_at is not None and letter.failed_at >= since))
    ]


def _redrive_headers(letter: DeadLetter, now: datetime) -> list[tuple[str, bytes]]:
    """The original headers (no ``dlq_*``, no earlier re-drive marks), plus whom it is for."""
    kept = [
        (k, v)
        for k, v in letter.headers
        if not k.startswith(_DLQ_PREFIX) and k not in (REDRIVE_HEADER, REDRIVEN_AT_HEADER)
    ]
    return [*kept, (REDRIVE_HEADER, (letter.consumer or "").encode()), (REDRIVEN_AT_HEADER, now.isoformat().encode())]


async def redrive(bootstrap: str, letters: Iterable[DeadLetter]) -> int:
    """Publish each letter to its source topic for the consumer that failed; the count sent."""
    now = datetime.now(UTC)
    producer = AIOKafkaProducer(**producer_options(bootstrap))
    await producer.start()
    sent = 0
    try:
        for letter in letters:
            if letter.source_topic is None or letter.consumer is None:
                continue  # not written by consumer.py: nothing says where it belongs
            await producer.send_and_wait(
                letter.source_topic, value=letter.value, key=letter.key, headers=_redrive_headers(letter, now)
            )
            sent += 1
    finally:
        await producer.stop()
    return sent


def _parse_time(raw: str) -> datetime:
    value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _choose(letters: Sequence[DeadLetter], event_ids: Sequence[str], everything: bool) -> list[DeadLetter]:
    if everything or not event_ids:
        return list(letters)
    wanted = set(event_ids)
    return [letter for letter in letters if letter.event_id in wanted]


async def _run(args: argparse.Namespace) -> int:
    letters = await read_dead_letters(args.bootstrap, args.topic, consumer=args.consumer, since=args.since)
    if args.command == "list":
        for letter in letters:
            print(json.dumps(letter.summary(), ensure_ascii=False))
        return 0
    if not (args.event_id or args.since or args.all):
        print("redrive: name the letters: --event-id, --since or --all", file=sys.stderr)
        return 2
    chosen = _choose(letters, args.event_id or [], args.all or args.since is not None)
    missing = set(args.event_id or []) - {letter.event_id for letter in chosen}
    if missing:
        print(f"redrive: no dead letter of {args.topic} for {sorted(missing)}", file=sys.stderr)
        return 1
    sent = await redrive(args.bootstrap, chosen)
    print(f"{sent} dead letters re-driven to {args.topic}")
    return 0


def run(argv: list[str] | None = None) -> int:
    """The command, returning its exit status (``main`` exits with it)."""
    parser = argparse.ArgumentParser(
        prog="python -m relacja_messaging.dead_letters", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("command", choices=["list", "redrive"])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--topic", required=True, help="the source topic, e.g. relacja.orders (not the .dlq)")
    parser.add_argument("--consumer", help="only letters this consumer dead-lettered, e.g. segmentation.projection")
    parser.add_argument("--since", type=_parse_time, help="only letters that failed at or after this RFC 3339 time")
    parser.add_argument("--event-id", action="append", help="redrive: this event (repeatable)")
    parser.add_argument("--all", action="store_true", help="redrive: every listed letter")
    return asyncio.run(_run(parser.parse_args(argv)))


def main(argv: list[str] | None = None) -> None:
    sys.exit(run(argv))


if __name__ == "__main__":
    main()
