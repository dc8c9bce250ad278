"""The segmentation service process: HTTP API, the event consumer and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.profiles import router as profiles_router
from .handlers import handlers
from .settings import CONSUMER_NAME, SegmentationSettings

__all__ = ["app", "settings"]

settings = SegmentationSettings()

app = create_service_app(
    name="segmentation",
    title="Relacja segmentation",
    description="RFM, ABC, the loyalty matrix and rule-based segments, built from events.",
    settings=settings,
    routers=[profiles_router],
    consumers={CONSUMER_NAME: handlers},
)
