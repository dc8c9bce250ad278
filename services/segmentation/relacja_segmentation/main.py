"""The segmentation service process: HTTP API, the event consumer, the outbox relay and
the scheduled full recomputation."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.analysis import router as analysis_router
from .api.profiles import router as profiles_router
from .api.segments import router as segments_router
from .consumers import handlers
from .settings import CONSUMER_NAME, get_settings
from .workers import scheduled_recomputation

__all__ = ["app", "settings"]

settings = get_settings()

app = create_service_app(
    name="segmentation",
    title="Relacja segmentation",
    description="RFM, ABC, the loyalty matrix and rule-based segments, built from events.",
    settings=settings,
    routers=[profiles_router, analysis_router, segments_router],
    consumers={CONSUMER_NAME: handlers},
    background=lambda database: [scheduled_recomputation(database, settings)],
)
