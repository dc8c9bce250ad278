"""The base of every event payload model.

A payload class names its CloudEvents ``type`` (``relacja.<service>.<entity>.<verb>.v<N>``)
and the topic it travels on. Payloads are frozen: an event is a fact, it does not change.

Evolution is additive: a new version of a model may add optional fields only, so
consumers ignore fields they do not know (``extra="ignore"``) — an old consumer keeps
working when a producer starts sending a field it has never seen. A breaking change is a
new class with ``.v2`` beside the ``.v1`` one.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from .topics import Topic

__all__ = ["EventPayload", "EVENT_TYPE_PATTERN"]

EVENT_TYPE_PATTERN = re.compile(r"^relacja\.[a-z_]+\.[a-z_]+\.[a-z_]+\.v[1-9][0-9]*$")


class EventPayload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    topic: ClassVar[Topic]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type is not None and not EVENT_TYPE_PATTERN.match(event_type):
            raise TypeError(f"{cls.__name__}.event_type {event_type!r} is not relacja.<service>.<entity>.<verb>.v<N>")

    def subject(self) -> str:
        """The CloudEvents subject: the customer the event is about (also the Kafka key)."""
        return str(self.customer_id)  # type: ignore[attr-defined]  # every concrete payload declares customer_id (the Kafka key)
