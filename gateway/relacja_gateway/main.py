"""The process entry: ``python -m uvicorn relacja_gateway.main:app --port 8080``.

Settings are read and logging is configured once, here, so that ``create_app`` stays free
of process-wide side effects and tests can build as many apps as they like.
"""

from __future__ import annotations

import logging

from relacja_servicekit.logging import configure_logging

from .app import create_app
from .settings import GatewaySettings

__all__ = ["app", "settings"]

settings = GatewaySettings()
configure_logging("gateway", settings.log_level)
# httpx writes a line per request at INFO; the access log already has one per call.
logging.getLogger("httpx").setLevel(logging.WARNING)
app = create_app(settings)
