"""The recommendations service process: HTTP API, the event consumer, the outbox relay and
the scheduled full recomputation of the pair statistics."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.customers import router as customers_router
from .api.evaluations import router as evaluations_router
from .api.products import router as products_router
from .api.statistics import router as statistics_router
from .consumers import handlers
from .settings import CONSUMER_NAME, get_settings
from .workers import announcer, scheduled_recomputation

__all__ = ["app", "settings"]

settings = get_settings()

app = create_service_app(
    name="recommendations",
    title="Relacja recommendations",
    description="Products bought together, cross-sell and up-sell suggestions, and their evaluation against a baseline.",
    settings=settings,
    routers=[products_router, customers_router, statistics_router, evaluations_router],
    consumers={CONSUMER_NAME: handlers},
    background=lambda database: [scheduled_recomputation(database, settings), announcer(database, settings)],
)
