"""Trigger evaluation, a batch of events at a time (the consumer's ``on_batch``).

    events ──► occurrences (occurrence_of) ──► projections the batch carries (orders,
           tiers, segment membership: executemany) ──► enabled triggers of those kinds
           (one read) ──► the customers' profiles (one read each: projection, segments,
           earlier orders) ──► domain.triggers.matches + the holdout draw ──► one
           multi-row INSERT ... ON CONFLICT (occurrence_key) DO NOTHING

So a batch costs a fixed number of statements whatever its size, and a redelivered or
re-announced occurrence writes nothing (the unique occurrence key).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    ChurnRiskTierChangedV1,
    ImportantDateUpcomingV1,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderPaidV1,
    OrderPlacedV1,
    SegmentMemberAddedV1,
    TicketResolvedV1,
    TierChangedV1,
)
from relacja_contracts.events.orders import _OrderSnapshot

from ..domain.holdout import in_holdout
from ..domain.triggers import Conditions, Occurrence, Profile, TriggerEvent, due_at, matches, occurrence_key
from ..tables import known_customers, messages, orders, segment_members, templates, triggers

__all__ = ["BATCH_EVENTS", "evaluate_batch", "occurrence_of"]

# Every event this batch handler takes: the trigger events and the order events the
# conditions and the uplift report need.
BATCH_EVENTS: tuple[type[EventPayload], ...] = (
    ImportantDateUpcomingV1,
    OrderPlacedV1,
    OrderPaidV1,
    OrderDeliveredV1,
    OrderCancelledV1,
    SegmentMemberAddedV1,
    ChurnRiskTierChangedV1,
    TierChangedV1,
    TicketResolvedV1,
)


def _order_context(p: _OrderSnapshot) -> dict[str, Any]:
    return {
        "order_id": str(p.order_id),
        "order_number": p.order_number,
        "total_amount": str(p.total_amount),
        "currency": p.currency,
        # Not a template variable: what a review request asks about (app/actions.py).
        "product_ids": sorted({str(line.product_id) for line in p.lines if line.product_id is not None}),
    }


def occurrence_of(payload: EventPayload) -> Occurrence | None:
    """The occurrence a trigger can fire on (None: an event the triggers do not name)."""
    if isinstance(payload, ImportantDateUpcomingV1):
        return Occurrence(
            TriggerEvent.IMPORTANT_DATE_UPCOMING,
            payload.customer_id,
            occurrence=f"{payload.important_date_id}:{payload.occurs_on.year}",
            occurred_at=datetime.combine(payload.occurs_on, datetime.min.time(), UTC)
            if payload.days_ahead == 0
            else datetime.now(UTC),
            attributes={"kind": payload.kind},
            context={
                "important_date_kind": payload.kind,
                "label": payload.label or "",
                "occurs_on": payload.occurs_on.isoformat(),
            },
        )
    if isinstance(payload, OrderPaidV1 | OrderDeliveredV1):
        kind = TriggerEvent.ORDER_PAID if isinstance(payload, OrderPaidV1) else TriggerEvent.ORDER_DELIVERED
        return Occurrence(
            kind,
            payload.customer_id,
            occurrence=str(payload.order_id),
            occurred_at=datetime.now(UTC),
            attributes={"order_id": payload.order_id, "placed_at": payload.placed_at},
            context=_order_context(payload),
        )
    if isinstance(payload, SegmentMemberAddedV1):
        return Occurrence(
            TriggerEvent.SEGMENT_MEMBER_ADDED,
            payload.customer_id,
            occurrence=f"{payload.segment_id}:{payload.occurred_at.date().isoformat()}",
            occurred_at=payload.occurred_at,
            attributes={"segment_id": payload.segment_id},
            context={"segment_name": payload.segment_name},
        )
    if isinstance(payload, ChurnRiskTierChangedV1):
        return Occurrence(
            TriggerEvent.CHURN_RISK_TIER_CHANGED,
            payload.customer_id,
            occurrence=f"{payload.risk_tier}:{payload.changed_at.date().isoformat()}",
            occurred_at=payload.changed_at,
            attributes={"risk_tier": payload.risk_tier},
            context={"risk_tier": payload.risk_tier},
        )
    if isinstance(payload, TierChangedV1):
        return Occurrence(
            TriggerEvent.LOYALTY_TIER_CHANGED,
            payload.customer_id,
            occurrence=f"{payload.programme_id}:{payload.tier}:{payload.changed_at.date().isoformat()}",
            occurred_at=payload.changed_at,
            attributes={"tier": payload.tier},
            context={"tier": payload.tier or ""},
        )
    if isinstance(payload, TicketResolvedV1):
        return Occurrence(
            TriggerEvent.TICKET_RESOLVED,
            payload.customer_id,
            occurrence=str(payload.ticket_id),
            occurred_at=payload.occurred_at,
            context={"ticket_id": str(payload.ticket_id)},
        )
    return None


async def _project(session: AsyncSession, payloads: Sequence[EventPayload]) -> None:
    """The projections these events carry, before the triggers look at them."""
    order_rows: dict[uuid.UUID, dict[str, Any]] = {}
    cancelled: set[uuid.UUID] = set()
    for p in payloads:
        if isinstance(p, _OrderSnapshot):
            order_rows[p.order_id] = {
                "order_id": p.order_id,
                "customer_id": p.customer_id,
                "placed_at": p.placed_at,
                "currency": p.currency,
                "total_amount": Decimal(str(p.total_amount)),
                "cancelled": isinstance(p, OrderCancelledV1),
            }
            if isinstance(p, OrderCancelledV1):
                cancelled.add(p.order_id)
        elif isinstance(p, SegmentMemberAddedV1):
            statement = insert(segment_members).values(
                segment_id=p.segment_id,
                customer_id=p.customer_id,
                segment_name=p.segment_name,
                occurred_at=p.occurred_at,
            )
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[segment_members.c.segment_id, segment_members.c.customer_id],
                    set_={
                        "segment_name": statement.excluded.segment_name,
                        "occurred_at": statement.excluded.occurred_at,
                    },
                )
            )
        elif isinstance(p, ChurnRiskTierChangedV1):
            await _profile_field(session, p.customer_id, churn_risk_tier=p.risk_tier)
        elif isinstance(p, TierChangedV1):
            await _profile_field(session, p.customer_id, loyalty_tier=p.tier)
    if order_rows:
        statement = insert(orders).values(list(order_rows.values()))
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[orders.c.order_id],
                # A cancellation sticks: a late paid or delivered snapshot does not undo it.
                set_={
                    "total_amount": statement.excluded.total_amount,
                    "cancelled": orders.c.cancelled | statement.excluded.cancelled,
                },
            )
        )


async def _profile_field(session: AsyncSession, customer_id: uuid.UUID, **values: Any) -> None:
    statement = insert(known_customers).values(customer_id=customer_id, state="active", **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[known_customers.c.customer_id], set_=values))


async def _profiles(session: AsyncSession, occurrences: Sequence[Occurrence]) -> dict[tuple[uuid.UUID, str], Profile]:
    customer_ids = list({o.customer_id for o in occurrences})
    rows = {
        r.customer_id: r
        for r in (
            await session.execute(select(known_customers).where(known_customers.c.customer_id.in_(customer_ids)))
        ).all()
    }
    segments: dict[uuid.UUID, set[uuid.UUID]] = {}
    for customer_id, segment_id in (
        await session.execute(
            select(segment_members.c.customer_id, segment_members.c.segment_id).where(
                segment_members.c.customer_id.in_(customer_ids)
            )
        )
    ).all():
        segments.setdefault(customer_id, set()).add(segment_id)
    order_occurrences = [o for o in occurrences if "placed_at" in o.attributes]
    earlier: dict[uuid.UUID, int] = {}
    if order_occurrences:
        keys = [(o.customer_id, o.attributes["order_id"]) for o in order_occurrences]
        this = orders.alias("this")
        counted = (
            select(this.c.order_id, func.count(orders.c.order_id))
            .select_from(this)
            .join(
                orders,
                and_(
                    orders.c.customer_id == this.c.customer_id,
                    orders.c.placed_at < this.c.placed_at,
                    orders.c.order_id != this.c.order_id,
                ),
            )
            .where(tuple_(this.c.customer_id, this.c.order_id).in_(keys))
            .group_by(this.c.order_id)
        )
        earlier = dict((await session.execute(counted)).all())
    profiles: dict[tuple[uuid.UUID, str], Profile] = {}
    for o in occurrences:
        row = rows.get(o.customer_id)
        profiles[(o.customer_id, o.occurrence)] = Profile(
            state=row.state if row is not None else "active",
            segment_ids=frozenset(segments.get(o.customer_id, ())),
            loyalty_tier=row.loyalty_tier if row is not None else None,
            lifecycle_stage=row.lifecycle_stage if row is not None else None,
            tags=frozenset(row.tags or ()) if row is not None else frozenset(),
            earlier_orders=earlier.get(o.attributes.get("order_id"), 0),  # type: ignore[arg-type]
        )
    return profiles


async def evaluate_batch(session: AsyncSession, batch: Sequence[tuple[CloudEvent, EventPayload]]) -> int:
    """Project a batch of events and fire the triggers they match; the number of messages written."""
    payloads = [payload for _, payload in batch]
    await _project(session, payloads)
    occurrences = [o for o in (occurrence_of(p) for p in payloads) if o is not None]
    if not occurrences:
        return 0
    kinds = {o.event.value for o in occurrences}
    live = (
        await session.execute(
            select(triggers, templates.c.purpose)
            .join(templates, templates.c.id == triggers.c.template_id)
            .where(triggers.c.enabled, triggers.c.event.in_(kinds))
        )
    ).all()
    if not live:
        return 0
    profiles = await _profiles(session, occurrences)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for o in occurrences:
        for t in live:
            if t.event != o.event.value:
                continue
            conditions = Conditions.from_json(t.conditions)
            if not matches(conditions, o, profiles[(o.customer_id, o.occurrence)]):
                continue
            held = in_holdout(t.id, o.customer_id, Decimal(t.holdout_percent))
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "customer_id": o.customer_id,
                    "channel": t.channel,
                    "purpose": t.purpose,
                    "template_id": t.template_id,
                    "trigger_id": t.id,
                    "occurrence_key": occurrence_key(t.id, o, conditions),
                    "status": "held_out" if held else "scheduled",
                    "due_at": due_at(o, t.delay_seconds, now),
                    "context": dict(o.context),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if not rows:
        return 0
    # The same occurrence twice in one batch: keep the first (ON CONFLICT cannot see its own rows).
    unique = list({r["occurrence_key"]: r for r in reversed(rows)}.values())
    result = await session.execute(
        insert(messages).values(unique).on_conflict_do_nothing(index_elements=[messages.c.occurrence_key])
    )
    return int(getattr(result, "rowcount", 0) or 0)
