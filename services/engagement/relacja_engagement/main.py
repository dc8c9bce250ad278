"""The engagement service process: HTTP API, the event consumer, the sender worker and the outbox relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from relacja_servicekit import Database, create_service_app

from .api.campaigns import router as campaigns_router
from .api.messages import router as messages_router
from .api.policy import router as policy_router
from .api.reviews import router as reviews_router
from .api.suppressions import router as suppressions_router
from .api.templates import router as templates_router
from .api.triggers import router as triggers_router
from .consumers import CONSUMER_GROUP, REVIEWS_CONSUMER_GROUP, handlers, review_handlers
from .settings import get_settings
from .workers import sender_worker

__all__ = ["app", "settings"]

settings = get_settings()


def _background(database: Database) -> list[Callable[[], Awaitable[None]]]:
    # The sender runs where the consumers run (the worker pods), never in the api pods.
    return [sender_worker(database.sessions, settings)] if settings.run_consumers else []


app = create_service_app(
    name="engagement",
    title="Relacja engagement",
    description="Engagement service: triggers, campaigns with holdouts, templates, consent-checked delivery.",
    settings=settings,
    routers=[
        templates_router,
        triggers_router,
        campaigns_router,
        policy_router,
        suppressions_router,
        messages_router,
        reviews_router,
    ],
    consumers={CONSUMER_GROUP: handlers, REVIEWS_CONSUMER_GROUP: review_handlers},
    background=_background,
)
