"""The sharing service's event handlers (consumer ``sharing.fanout``)."""

from __future__ import annotations

from relacja_messaging.handlers import EventHandlers

__all__ = ["handlers"]

handlers = EventHandlers()
