"""The engagement service process: HTTP API, the event consumer, the sender worker and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api import reviews
from .consumers import CONSUMER_GROUP, REVIEWS_CONSUMER_GROUP, handlers, review_handlers
from .settings import get_settings

__all__ = ["app", "settings"]

settings = get_settings()

app = create_service_app(
    name="engagement",
    title="Relacja engagement",
    description="Engagement service: triggers, campaigns with holdouts, templates, consent-checked delivery.",
    settings=settings,
    routers=[reviews.router],
    consumers={CONSUMER_GROUP: handlers, REVIEWS_CONSUMER_GROUP: review_handlers},
)
