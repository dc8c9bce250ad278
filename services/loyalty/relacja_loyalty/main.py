"""The loyalty service process: HTTP API, the event consumer, the housekeeping worker and the outbox relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from relacja_servicekit import Database, create_service_app

from .api.catalogue import router as catalogue_router
from .api.customers import router as customers_router
from .api.members import router as members_router
from .api.programmes import router as programmes_router
from .consumers import CONSUMER_GROUP, handlers
from .settings import LoyaltySettings
from .workers import housekeeping_worker

__all__ = ["app", "settings"]

settings = LoyaltySettings()


def _background(database: Database) -> list[Callable[[], Awaitable[None]]]:
    return [housekeeping_worker(database.sessions, interval_seconds=settings.housekeeping_interval_seconds)]


app = create_service_app(
    name="loyalty",
    title="Relacja loyalty",
    description="Loyalty service: programmes, members and the points ledger, tiers, rewards, offers and coupons.",
    settings=settings,
    routers=[programmes_router, members_router, catalogue_router, customers_router],
    consumers={CONSUMER_GROUP: handlers},
    background=_background,
)
