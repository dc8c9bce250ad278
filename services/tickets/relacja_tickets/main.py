"""The tickets service process: HTTP API, the event consumer, the outbox relay and the SLA watcher."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.comments import router as comments_router
from .api.insights import router as insights_router
from .api.sla_policies import router as sla_policies_router
from .api.surveys import router as surveys_router
from .api.tickets import item_router as ticket_item_router
from .api.tickets import list_router as ticket_list_router
from .consumers import handlers
from .settings import CONSUMER_NAME, TicketsSettings
from .workers import sla_background

__all__ = ["app", "settings"]

settings = TicketsSettings()

app = create_service_app(
    name="tickets",
    title="Relacja tickets",
    description="Tickets service: support cases and complaints, SLA clocks, agent queues, satisfaction surveys.",
    settings=settings,
    # Fixed paths (/queue, /at-risk, /settings, /metrics, /customers/...) before /{ticket_id}.
    routers=[
        ticket_list_router,
        insights_router,
        ticket_item_router,
        comments_router,
        sla_policies_router,
        surveys_router,
    ],
    consumers={CONSUMER_NAME: handlers},
    background=sla_background(settings),
)
