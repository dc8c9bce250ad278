"""The sharing service process: HTTP API (staff and partner faces), the fan-out consumer and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.partners import router as partners_router
from .consumers import handlers
from .settings import SharingSettings

__all__ = ["app", "settings"]

settings = SharingSettings()

app = create_service_app(
    name="sharing",
    title="Relacja sharing",
    description="Sharing service: partner companies receive and contribute customer data under agreements and consent.",
    settings=settings,
    routers=[partners_router],
    consumers={"sharing.fanout": handlers},
)
