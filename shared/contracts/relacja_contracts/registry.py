"""Event type name → payload model.

Consumers look up the model for an incoming ``ce_type`` here; the AsyncAPI generator
documents every entry. Adding an event = adding its class to ``_MODELS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from . import events
from .base import EventPayload

__all__ = ["EVENT_TYPES", "payload_model"]

_MODELS: tuple[type[EventPayload], ...] = tuple(getattr(events, name) for name in events.__all__)

EVENT_TYPES: Mapping[str, type[EventPayload]] = MappingProxyType({m.event_type: m for m in _MODELS})


def payload_model(event_type: str) -> type[EventPayload] | None:
    return EVENT_TYPES.get(event_type)
