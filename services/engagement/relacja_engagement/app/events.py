"""The service's one event writer (``relacja_messaging.Outbox``): every use case writes its
events through ``outbox`` in the transaction of the change they describe."""

from __future__ import annotations

from relacja_messaging import Outbox

from ..settings import EVENT_SOURCE

__all__ = ["outbox"]

outbox = Outbox(EVENT_SOURCE)
