"""The sharing service process: HTTP API (staff face, partner face, key introspection), the
fan-out consumer, the retention housekeeping, the webhook delivery worker and the outbox relay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from relacja_servicekit import Database, create_service_app

from .api.agreements import router as agreements_router
from .api.contributions import partner_router as partner_contributions_router
from .api.contributions import staff_router as contributions_router
from .api.disclosures import router as disclosures_router
from .api.keys import internal_router
from .api.keys import router as keys_router
from .api.partner_face import router as partner_router
from .api.partners import router as partners_router
from .api.webhooks import partner_router as partner_webhooks_router
from .api.webhooks import staff_router as webhooks_router
from .consumers import handlers
from .settings import SharingSettings
from .workers import retention_worker, webhook_worker

__all__ = ["app", "settings"]

settings = SharingSettings()


def _background(database: Database) -> list[Callable[[], Awaitable[None]]]:
    workers = [
        retention_worker(
            database.sessions,
            feed_retention=timedelta(days=settings.feed_retention_days),
            disclosure_retention=timedelta(days=settings.disclosure_retention_days),
            interval_seconds=settings.housekeeping_interval_seconds,
            webhook_log_retention=timedelta(days=settings.webhook_log_retention_days),
        )
    ]
    if settings.run_webhooks:
        workers.append(webhook_worker(database.sessions, settings))
    return workers


app = create_service_app(
    name="sharing",
    title="Relacja sharing",
    description="Sharing service: partner companies receive and contribute customer data under agreements and consent.",
    settings=settings,
    routers=[
        partners_router,
        keys_router,
        agreements_router,
        disclosures_router,
        webhooks_router,
        partner_router,
        partner_webhooks_router,
        contributions_router,
        partner_router,
        partner_contributions_router,
        internal_router,
    ],
    consumers={"sharing.fanout": handlers},
    background=_background,
)
