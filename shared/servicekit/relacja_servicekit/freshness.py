"""``GET /api/v1/<service>/read-models/freshness``: how fresh the service's event-fed read models are.

Mounted by ``create_service_app`` on every service that runs consumers, one entry per
(consumer group, source topic) of its handlers, so a client can tell "not yet" from "no":

    {"service": "orders", "checked_at": "...",
     "sources": [{"consumer": "orders.customers", "topic": "relacja.customers",
                  "last_event_time": "...", "last_applied_at": "...", "lag_seconds": 0.4,
                  "lag_events": 0, "oldest_waiting_seconds": 0.0}]}

The first four figures come from the inbox (``relacja_messaging.freshness``): what has been
applied. ``lag_events`` and ``oldest_waiting_seconds`` say what has not been yet — the
consumer's lag from its last fetch (``relacja_messaging.progress``): the events of the topic
still to apply and how long the oldest of them has waited, e.g. while a backlog after an
import is digested. They are this replica's consumer's (the partitions it holds; with one
replica, all) and null before it has fetched from the topic. The gateway routes the path
under the service's own prefix, so it needs the service's read scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from relacja_messaging import EventHandlers
from relacja_messaging.freshness import read_model_freshness
from relacja_messaging.progress import consumer_lag

from .db import SessionDep

__all__ = ["FRESHNESS_PATH", "ReadModelFreshness", "SourceFreshnessPublic", "freshness_router"]

FRESHNESS_PATH = "/api/v1/{service}/read-models/freshness"


class SourceFreshnessPublic(BaseModel):
    consumer: str = Field(description="The consumer group (one read model's feed)")
    topic: str = Field(description="The source topic")
    last_event_time: datetime | None = Field(
        description="CloudEvents time of the last event applied from the topic; null: none yet"
    )
    last_applied_at: datetime | None = Field(description="When that event was applied")
    lag_seconds: float | None = Field(
        description="last_applied_at − last_event_time: how far the read model trailed its source"
    )
    lag_events: int | None = Field(
        default=None,
        ge=0,
        description="Events of the topic not applied yet, as of the consumer's last fetch (the partitions this "
        "replica consumes); null: it has not fetched from the topic yet",
    )
    oldest_waiting_seconds: float | None = Field(
        default=None,
        ge=0,
        description="How long the oldest of those events has waited (0 when none waits); null with lag_events",
    )


class ReadModelFreshness(BaseModel):
    service: str
    checked_at: datetime = Field(description="The service's clock when this was read")
    sources: list[SourceFreshnessPublic]


def freshness_router(service: str, consumers: Mapping[str, EventHandlers]) -> APIRouter:
    sources = [(group, topic.name) for group, handlers in consumers.items() for topic in handlers.topics]
    router = APIRouter(tags=["read models"])

    @router.get(
        FRESHNESS_PATH.format(service=service),
        response_model=ReadModelFreshness,
        summary="How fresh the event-fed read models are (per consumer and source topic)",
    )
    async def freshness(session: SessionDep) -> ReadModelFreshness:
        async with session.begin():
            found = await read_model_freshness(session, sources)
        sources_out = []
        for f in found:
            lag = consumer_lag(f.consumer, f.topic)
            sources_out.append(
                SourceFreshnessPublic(
                    consumer=f.consumer,
                    topic=f.topic,
                    last_event_time=f.last_event_time,
                    last_applied_at=f.last_applied_at,
                    lag_seconds=f.lag_seconds,
                    lag_events=lag.lag_events if lag else None,
                    oldest_waiting_seconds=lag.lag_seconds if lag else None,
                )
            )
        return ReadModelFreshness(service=service, checked_at=datetime.now(UTC), sources=sources_out)

    return router
