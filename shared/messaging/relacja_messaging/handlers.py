"""A typed registry of event handlers: the payload model in the decorator is the contract.

    handlers = EventHandlers()

    @handlers.on(CustomerRegisteredV1)
    async def record_customer(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
        ...

The consumer validates the record value against the model before calling the handler,
and calls it inside the transaction that also writes the inbox row.

A handler that can apply many events in one set-based statement registers for a batch:

    @handlers.on_batch(OrderPlacedV1, OrderPaidV1)
    async def record_orders(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
        ...

The consumer then hands it each run of consecutive new events (in offset order) that it
handles, in the fetch's transaction; the one-by-one fallback hands it one event at a time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload, Topic

__all__ = ["BatchHandler", "EventHandlers", "Handler", "Registration"]

P = TypeVar("P", bound=EventPayload)
Handler = Callable[[AsyncSession, CloudEvent, P], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[tuple[CloudEvent, EventPayload]]], Awaitable[None]]


@dataclass(frozen=True)
class Registration(Generic[P]):
    model: type[P]
    handler: Handler[P]
    batch: BatchHandler | None = None  # set: consecutive events of this handler are applied together


class EventHandlers:
    def __init__(self) -> None:
        self._by_type: dict[str, Registration[EventPayload]] = {}

    def on(self, model: type[P]) -> Callable[[Handler[P]], Handler[P]]:
        def register(handler: Handler[P]) -> Handler[P]:
            if model.event_type in self._by_type:
                raise ValueError(f"a handler for {model.event_type} is already registered")
            self._by_type[model.event_type] = Registration(model, handler)  # type: ignore[arg-type]  # Registration is invariant in P; dispatch looks up by event_type, so model and handler always match
            return handler

        return register

    def on_batch(self, *models: type[EventPayload]) -> Callable[[BatchHandler], BatchHandler]:
        def register(batch: BatchHandler) -> BatchHandler:
            async def one(session: AsyncSession, event: CloudEvent, payload: EventPayload) -> None:
                await batch(session, [(event, payload)])

            for model in models:
                if model.event_type in self._by_type:
                    raise ValueError(f"a handler for {model.event_type} is already registered")
                self._by_type[model.event_type] = Registration(model, one, batch)
            return batch

        return register

    def get(self, event_type: str) -> Registration[EventPayload] | None:
        return self._by_type.get(event_type)

    @property
    def topics(self) -> list[Topic]:
        """The topics these handlers need, in a stable order."""
        unique = {r.model.topic.name: r.model.topic for r in self._by_type.values()}
        return [unique[name] for name in sorted(unique)]
