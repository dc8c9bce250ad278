"""Event handlers of the consumer ``engagement.triggers``."""

from __future__ import annotations

from relacja_messaging import EventHandlers

__all__ = ["CONSUMER_GROUP", "handlers"]

CONSUMER_GROUP = "engagement.triggers"

handlers = EventHandlers()
