"""``/api/v1/<service>/dead-letters``: an operator lists the events this service's consumers
dead-lettered, and re-drives chosen ones after fixing the cause.

Mounted by ``create_service_app`` on every service that runs consumers, beside the
freshness endpoint. The gateway routes ``/api/v1/<service>/dead-letters`` apart from the
rest of the service's prefix (area ``operations``): listing needs ``operations:read``,
re-driving ``operations:admin`` — dead letters are the operator's business, not the data
entry scopes' (gateway/relacja_gateway/routes.py).

    GET  /api/v1/orders/dead-letters?topic=relacja.customers&since=2026-12-01T00:00:00Z
    POST /api/v1/orders/dead-letters/redrive  {"topic": "relacja.customers", "event_ids": ["..."]}
                                              {"topic": "relacja.customers", "since": "2026-12-01T00:00:00Z"}

Both are thin over ``relacja_messaging.dead_letters`` (the one implementation; the
operator command ``python -m relacja_messaging.dead_letters`` is the same code): only the
letters of this service's own consumer groups are listed or re-driven, so one service's
operator endpoint never replays another service's failures. A re-driven event keeps its
id, and only the consumer that failed applies it again — the inbox still makes a second
re-drive harmless (see that module).
"""

# No ``from __future__ import annotations``: the routes are made in a function and their
# parameter types (the per-service topic enum and request model) are local to it, which
# FastAPI can resolve only from real annotation objects.
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from relacja_messaging import EventHandlers
from relacja_messaging.dead_letters import DeadLetter, read_dead_letters, redrive

from .openapi import problem_responses
from .pagination import DEFAULT_LIMIT, CursorParam, LimitParam, Page, decode_cursor, encode_cursor
from .problems import Problem
from .types import Timestamp

__all__ = ["DEAD_LETTERS_PATH", "DeadLetterPublic", "RedriveRequest", "RedriveResult", "dead_letters_router"]

DEAD_LETTERS_PATH = "/api/v1/{service}/dead-letters"
MAX_REDRIVE_IDS = 1000


class DeadLetterPublic(BaseModel):
    topic: str = Field(description="The topic the event came from (its dead letters are in <topic>.dlq)")
    partition: int = Field(description="Partition of the dead-letter topic")
    offset: int = Field(description="Offset in that partition")
    event_id: str | None = Field(description="CloudEvents id: the inbox key, kept on re-drive")
    event_type: str | None
    consumer: str | None = Field(description="The consumer group that could not apply it")
    error_type: str | None
    error: str | None = Field(description="The error's message, as the consumer logged it")
    failed_at: datetime | None
    redriven_before: bool = Field(description="This letter is itself a re-driven event that failed again")


class RedriveRequest(BaseModel):
    """Which dead letters to re-drive: named by event id, or every one since a time.

    Each service's router subclasses it with ``topic``: an enum of the topics it consumes."""

    model_config = ConfigDict(extra="forbid")

    event_ids: Annotated[list[Annotated[str, Field(min_length=1, max_length=200)]], Field(max_length=1000)] | None = (
        Field(default=None, min_length=1, description="Re-drive these events' dead letters")
    )
    since: Timestamp | None = Field(default=None, description="Re-drive every dead letter that failed at or after this")

    @model_validator(mode="after")
    def _exactly_one_choice(self) -> "RedriveRequest":
        if (self.event_ids is None) == (self.since is None):
            raise ValueError("name the dead letters to re-drive: exactly one of event_ids and since")
        return self


class RedriveResult(BaseModel):
    topic: str
    redriven: int = Field(description="How many records were published to the source topic")
    event_ids: list[str] = Field(description="The re-driven events' ids")


def _public(topic: str, letter: DeadLetter) -> DeadLetterPublic:
    summary: dict[str, Any] = letter.summary()
    return DeadLetterPublic(
        topic=topic,
        partition=letter.partition,
        offset=letter.offset,
        event_id=letter.event_id,
        event_type=summary["event_type"],
        consumer=letter.consumer,
        error_type=summary["error_type"],
        error=summary["error"],
        failed_at=letter.failed_at,
        redriven_before=bool(summary["redriven_before"]),
    )


def _latest_per_event(letters: list[DeadLetter]) -> list[DeadLetter]:
    """One letter per (event, consumer): the newest. An event re-driven and failed again has
    two letters; sending both would only make the consumer fail (or skip) it twice, and
    repeated "since" re-drives would double the topic each time."""
    latest: dict[tuple[str | None, str | None], DeadLetter] = {}
    for letter in letters:
        key = (letter.event_id, letter.consumer)
        known = latest.get(key)
        if known is None or (letter.failed_at or datetime.min.replace(tzinfo=UTC)) >= (
            known.failed_at or datetime.min.replace(tzinfo=UTC)
        ):
            latest[key] = letter
    return list(latest.values())


def dead_letters_router(service: str, consumers: Mapping[str, EventHandlers], bootstrap: str) -> APIRouter:
    """The two operator routes for ``service``, over the topics its ``consumers`` read."""
    groups = frozenset(consumers)
    topic_names = sorted({topic.name for handlers in consumers.values() for topic in handlers.topics})
    # An enum, so the OpenAPI names the topics a client may choose from.
    SourceTopic = Enum(f"{service.title()}SourceTopic", {name: name for name in topic_names}, type=str)  # type: ignore[misc]
    ServiceRedriveRequest = create_model(
        f"{service.title()}RedriveRequest",
        __base__=RedriveRequest,
        topic=(SourceTopic, Field(description="The source topic (one this service consumes)")),
    )
    path = DEAD_LETTERS_PATH.format(service=service)
    router = APIRouter(tags=["operations"])

    async def letters_of(topic: str, since: datetime | None) -> list[DeadLetter]:
        try:
            found = await read_dead_letters(bootstrap, topic, since=since)
        except KafkaError as exc:
            raise Problem(503, "Broker unavailable", f"The dead letters cannot be read now: {exc}") from exc
        return [letter for letter in found if letter.consumer in groups]

    @router.get(
        path,
        response_model=Page[DeadLetterPublic],
        summary="The events this service's consumers dead-lettered, oldest first per topic and partition",
    )
    async def list_dead_letters(
        topic: Annotated[
            SourceTopic | None,
            Query(description="Only this source topic's dead letters (default: every topic the service consumes)"),
        ] = None,
        since: Annotated[Timestamp | None, Query(description="Only those that failed at or after this")] = None,
        limit: LimitParam = DEFAULT_LIMIT,
        cursor: CursorParam = None,
    ) -> Page[DeadLetterPublic]:
        chosen = [topic.value] if topic is not None else topic_names
        after = decode_cursor(cursor, sort="dead-letters", arity=3) if cursor else None
        items: list[DeadLetterPublic] = []
        for name in chosen:
            items += [_public(name, letter) for letter in await letters_of(name, since)]
        items.sort(key=lambda item: (item.topic, item.partition, item.offset))
        if after is not None:
            items = [item for item in items if (item.topic, item.partition, item.offset) > tuple(after)]
        page = items[:limit]
        more = len(items) > limit
        next_cursor = (
            encode_cursor([page[-1].topic, page[-1].partition, page[-1].offset], "dead-letters") if more else None
        )
        return Page[DeadLetterPublic](items=page, next_cursor=next_cursor)

    @router.post(
        f"{path}/redrive",
        response_model=RedriveResult,
        summary="Re-drive dead letters to their source topic, for the consumer that failed",
        description=(
            "Publishes each chosen dead letter's original record (value, key, CloudEvents headers: the "
            "event keeps its id) to the source topic, marked for the consumer that failed. That consumer "
            "applies it once; every other consumer finds it in its inbox and skips it, so re-driving the "
            "same letter twice is harmless."
        ),
        responses=problem_responses(
            {422: "An event id names no dead letter of this service's consumers on the topic (`unknown-dead-letter`)"}
        ),
    )
    async def redrive_dead_letters(request: ServiceRedriveRequest) -> RedriveResult:
        topic: str = request.topic.value  # type: ignore[attr-defined]  # the subclass's enum field
        letters = await letters_of(topic, request.since)
        if request.event_ids is not None:
            wanted = set(request.event_ids)
            letters = [letter for letter in letters if letter.event_id in wanted]
            missing = sorted(wanted - {letter.event_id for letter in letters})
            if missing:
                raise Problem(
                    422,
                    "Unknown dead letter",
                    f"No dead letter of this service's consumers on {topic} has the event id(s) {missing}.",
                    type_="unknown-dead-letter",
                    errors=[{"field": "event_ids", "message": f"not dead-lettered here: {', '.join(missing)}"}],
                )
        letters = _latest_per_event(letters)
        try:
            sent = await redrive(bootstrap, letters)
        except KafkaError as exc:
            raise Problem(
                503,
                "Broker unavailable",
                f"The re-drive stopped; some letters may have been sent (sending them again is harmless): {exc}",
            ) from exc
        return RedriveResult(
            topic=topic, redriven=sent, event_ids=[letter.event_id for letter in letters if letter.event_id]
        )

    return router
