"""The service's one event writer (``ce_source`` /relacja/recommendations)."""

from __future__ import annotations

from relacja_messaging import Outbox

from .settings import EVENT_SOURCE

__all__ = ["outbox"]

outbox = Outbox(EVENT_SOURCE)
