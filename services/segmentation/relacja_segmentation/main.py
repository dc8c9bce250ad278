"""The segmentation service process: HTTP API, the event consumer and the outbox relay."""

from __future__ import annotations

from relacja_messaging import EventConsumer, OutboxRelay
from relacja_servicekit import Database, create_service_app

from .api.profiles import router as profiles_router
from .handlers import handlers
from .settings import CONSUMER_NAME, SegmentationSettings

__all__ = ["app", "settings"]

settings = SegmentationSettings()


def _background(database: Database):  # type: ignore[no-untyped-def]
    workers = []
    if settings.run_consumers:
        workers.append(EventConsumer(CONSUMER_NAME, handlers, database.sessions, settings.kafka_bootstrap).run)
    if settings.run_relay:
        workers.append(OutboxRelay(database.engine, settings.kafka_bootstrap, name="segmentation-relay").run)
    return workers


app = create_service_app(
    name="segmentation",
    title="Relacja segmentation",
    description="RFM, ABC, the loyalty matrix and rule-based segments, built from events.",
    settings=settings,
    routers=[profiles_router],
    background=_background,
)
