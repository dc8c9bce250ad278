"""Event handlers that keep the projection and the pair counts current.

    relacja.customers  registered → known (a fetch's run at once, ``on_batch``); merged → re-key to the survivor; erased →
                       unlink baskets, drop consents; consent granted / withdrawn
                       (purpose ``profiling`` only) → consent record, queued to announce
    relacja.orders     order events, a fetch's run of them at once (``on_batch``) → the
                       orders' baskets and the counts in one statement; customers whose
                       baskets changed are queued for the announcer (app/refresh.py, run
                       by workers.py);
                       product changed → the catalogue row

Each runs in the consumer's transaction after the inbox row is written, so a redelivered
event never reaches a handler twice; the handlers are still written as guarded upserts
(newest snapshot, highest version, latest consent), so a replay converges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderFulfilledV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderReturnedV1,
    ProductChangedV1,
)
from relacja_contracts.events.orders import _OrderSnapshot
from relacja_messaging import EventHandlers
from relacja_servicekit.known_customers import project_registered_many

from .app import projection
from .app.statistics import default_window_start
from .settings import get_settings
from .tables import known_customers

__all__ = ["handlers"]

handlers = EventHandlers()

PROFILING = "profiling"


@handlers.on_batch(CustomerRegisteredV1)
async def on_registered(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of registrations (an import's thousands) in one INSERT."""
    registered = [payload for _, payload in events if isinstance(payload, CustomerRegisteredV1)]
    await project_registered_many(session, known_customers, [(p.customer_id, None) for p in registered])


@handlers.on(CustomersMergedV1)
async def on_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    await projection.apply_merge(session, payload.customer_id, payload.merged_customer_id)


@handlers.on(CustomerErasedV1)
async def on_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await projection.apply_erasure(session, payload.customer_id)


async def _consent(session: AsyncSession, payload: ConsentGrantedV1 | ConsentWithdrawnV1, granted: bool) -> None:
    if payload.purpose != PROFILING:
        return
    await projection.apply_consent(session, payload.customer_id, payload.consent_id, granted, payload.occurred_at)


@handlers.on(ConsentGrantedV1)
async def on_consent_granted(session: AsyncSession, event: CloudEvent, payload: ConsentGrantedV1) -> None:
    await _consent(session, payload, True)


@handlers.on(ConsentWithdrawnV1)
async def on_consent_withdrawn(session: AsyncSession, event: CloudEvent, payload: ConsentWithdrawnV1) -> None:
    await _consent(session, payload, False)


@handlers.on_batch(OrderPlacedV1, OrderPaidV1, OrderFulfilledV1, OrderDeliveredV1, OrderCancelledV1, OrderReturnedV1)
async def on_orders(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A run of order events of one fetch, applied in one statement."""
    payloads = [cast(_OrderSnapshot, payload) for _, payload in events]
    await projection.apply_orders_batch(session, payloads, default_window_start(get_settings()))


@handlers.on(ProductChangedV1)
async def on_product(session: AsyncSession, event: CloudEvent, payload: ProductChangedV1) -> None:
    await projection.apply_product(session, payload)
