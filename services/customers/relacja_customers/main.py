"""The customers service process: HTTP API, the outbox relay, the order-event consumer
(lifecycle moves) and the important-date announcer."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.consents import router as consents_router
from .api.customers import router as customers_router
from .api.important_dates import router as important_dates_router
from .api.imports import IMPORTS_PATH
from .api.imports import router as imports_router
from .api.interactions import router as interactions_router
from .api.merge import router as merge_router
from .api.privacy import router as privacy_router
from .api.service_settings import router as settings_router
from .api.timeline import router as timeline_router
from .consumers import handlers
from .settings import CONSUMER_NAME, CustomersSettings
from .workers import important_dates_background

__all__ = ["app", "settings"]

settings = CustomersSettings()

app = create_service_app(
    name="customers",
    title="Relacja customers",
    description="The customer master: one record per customer that every team sees.",
    settings=settings,
    # Fixed paths (/settings, /important-dates, /meetings, /imports) before the customers router's /{customer_id}.
    routers=[
        settings_router,
        important_dates_router,
        interactions_router,
        consents_router,
        timeline_router,
        imports_router,
        customers_router,
        merge_router,
        privacy_router,
    ],
    consumers={CONSUMER_NAME: handlers},
    body_limits={IMPORTS_PATH: settings.import_max_body_bytes},
    background=important_dates_background(settings),
)
