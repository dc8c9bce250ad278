"""The event consumer ``sharing.fanout``: the projection, then the fan-out into feeds.

    every shareable type (app/catalog.py)   → fan-out into the agreements' feeds
    customer.registered                     + the customer's e-mail (an identifier some agreements give)
    customer.updated                        → rectification records (changed shared fields) instead
    segment.changed (rfm)                   + the customer's RFM group (reports)
    segment member added / removed          + rule-based membership (reports)
    consent granted / withdrawn             → the consent projection; a withdrawal of partner_sharing
                                              sends tombstones (app/fanout.py)
    customer.merged                         → consents, segments, recipients and contributions move to
                                              the survivor
    customer.erased                         → erasure notices to every agreement that ever received
                                              the customer; the projection forgets the person; what
                                              partners contributed about them loses its personal fields

Shareable events are applied a fetch's run at a time (``on_batch``): the registrations'
e-mails in one statement, then one fan-out statement for all the run's events (a
customer.updated, a rectification, on its own between them).

The payload the fan-out filters is the event's own JSON, as the producer wrote it
(dumped again from the validated model, so only contract fields can appear).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomerSegmentChangedV1,
    CustomersMergedV1,
    CustomerUpdatedV1,
    SegmentMemberAddedV1,
    SegmentMemberRemovedV1,
)
from relacja_contracts.registry import EVENT_TYPES
from relacja_messaging import EventHandlers

from .app import projection
from .app.catalog import CATALOG
from .app.contributions import erase_contributions, rekey_contributions
from .app.fanout import FanOutEvent, fan_out, fan_out_many, send_erasure_notices, send_tombstones

__all__ = ["handlers"]

handlers = EventHandlers()

PARTNER_SHARING = "partner_sharing"


async def _project(session: AsyncSession, payload: EventPayload) -> None:
    """The projection's part of a shareable event (before its fan-out, which may read it);
    registrations are recorded for the whole batch at once (``share``)."""
    if isinstance(payload, CustomerSegmentChangedV1) and payload.dimension == "rfm":
        await projection.set_rfm_segment(session, payload.customer_id, payload.new)
    elif isinstance(payload, SegmentMemberAddedV1 | SegmentMemberRemovedV1):
        await projection.set_membership(
            session,
            payload.customer_id,
            payload.segment_id,
            payload.segment_name,
            member=isinstance(payload, SegmentMemberAddedV1),
        )


@handlers.on_batch(*(EVENT_TYPES[event_type] for event_type in CATALOG))
async def share(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """A fetch's run of shareable events: the projection's part of each, in order, then the
    fan-out — one statement for each stretch of events between two ``customer.updated``
    (a rectification, fanned out on its own)."""
    await projection.record_customers(
        session,
        [(p.customer_id, p.email) for _, p in events if isinstance(p, CustomerRegisteredV1)],
    )
    for _, payload in events:
        await _project(session, payload)
    stretch: list[FanOutEvent] = []
    for event, payload in events:
        item = FanOutEvent(
            event_type=event.type,
            customer_id=payload.customer_id,  # type: ignore[attr-defined]  # every shareable payload has customer_id
            time=event.time,
            payload=payload.model_dump_json(),
        )
        if event.type != CustomerUpdatedV1.event_type:
            stretch.append(item)
            continue
        await fan_out_many(session, stretch)
        stretch = []
        await fan_out(
            session, event_type=item.event_type, customer_id=item.customer_id, time=item.time, payload=item.payload
        )
    await fan_out_many(session, stretch)


@handlers.on(ConsentGrantedV1)
async def consent_granted(session: AsyncSession, event: CloudEvent, payload: ConsentGrantedV1) -> None:
    if payload.purpose == PARTNER_SHARING and payload.partner_id and payload.partner_purpose:
        await projection.apply_consent(
            session,
            payload.customer_id,
            payload.partner_id,
            payload.partner_purpose,
            granted=True,
            occurred_at=payload.occurred_at,
        )


@handlers.on(ConsentWithdrawnV1)
async def consent_withdrawn(session: AsyncSession, event: CloudEvent, payload: ConsentWithdrawnV1) -> None:
    if payload.purpose != PARTNER_SHARING or not payload.partner_id or not payload.partner_purpose:
        return
    if await projection.apply_consent(
        session,
        payload.customer_id,
        payload.partner_id,
        payload.partner_purpose,
        granted=False,
        occurred_at=payload.occurred_at,
    ):
        await send_tombstones(
            session,
            customer_id=payload.customer_id,
            partner_id=payload.partner_id,
            purpose=payload.partner_purpose,
            time=event.time,
        )


@handlers.on(CustomerErasedV1)
async def customer_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await send_erasure_notices(session, customer_id=payload.customer_id, time=event.time)
    await projection.erase_customer(session, payload.customer_id, payload.erased_at)
    await erase_contributions(session, payload.customer_id)


@handlers.on(CustomersMergedV1)
async def customers_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    await projection.merge_customers(session, payload.customer_id, payload.merged_customer_id)
    await rekey_contributions(session, payload.merged_customer_id, payload.customer_id)
