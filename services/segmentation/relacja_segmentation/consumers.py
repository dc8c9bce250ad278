"""Event handlers that keep the projection, the scores and segment membership current.

Each runs inside the consumer's transaction, after the inbox row is written: a
redelivered event never reaches a handler twice. Handlers are still written as upserts
guarded by the event's own time or version, so that a projection rebuilt by replaying
events converges to the same rows.

Customer ids are first resolved through ``customer_aliases``: an order of a customer
that was merged away (possibly replayed after the merge, since orders and merges travel
on different topics) lands on the surviving customer.

After the rows change, the customer's aggregates are recomputed from its rows (never
incremented, so order and replay do not matter), the customer is scored against the last
full recomputation, and its segment membership is refreshed.

Order and ticket events — the bulk of the traffic, tens of thousands after an import —
are applied set-based per consumer batch (``on_batch``): the newest snapshot of each
order in one upsert, then one aggregate recomputation, one scoring pass and one
membership refresh over the customers the batch touched. The one-by-one fallback (a
failed batch) hands the same function one event at a time.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar, cast

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    ConsentGrantedV1,
    ConsentWithdrawnV1,
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    CustomerUpdatedV1,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderFulfilledV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderReturnedV1,
    SlaBreachedV1,
    SurveyAnsweredV1,
    TicketClosedV1,
    TicketFirstRespondedV1,
    TicketOpenedV1,
    TicketReopenedV1,
    TicketResolvedV1,
)
from relacja_messaging import EventHandlers

from .app import membership, projection
from .app.scoring import score_customers
from .settings import get_settings
from .tables import customer_aliases, customer_profiles, seg_consents, seg_orders, seg_tickets

__all__ = ["handlers", "after_change", "newest_snapshots"]

handlers = EventHandlers()


async def after_change(session: AsyncSession, customers: uuid.UUID | Sequence[uuid.UUID]) -> None:
    """Re-score the customer(s) and refresh their segment membership."""
    ids = [customers] if isinstance(customers, uuid.UUID) else list(customers)
    await score_customers(session, ids, get_settings())
    await membership.refresh_customers(session, ids)


# Arrays through unnest (one statement text for any batch, prepared once; each row's tags
# travel as a JSON array text, as a ragged text[][] cannot). An update (version ≥ 1) seen
# first keeps its newer stage and tags.
_UPSERT_REGISTERED = text("""
INSERT INTO customer_profiles (customer_id, kind, lifecycle_stage, registered_at, tags)
SELECT u.c, u.k, u.s, u.r,
       ARRAY(SELECT e FROM jsonb_array_elements_text(CAST(u.t AS jsonb)) WITH ORDINALITY AS a (e, i) ORDER BY i)
FROM unnest(CAST(:ids AS uuid[]), CAST(:kinds AS text[]), CAST(:stages AS text[]),
            CAST(:registered AS timestamptz[]), CAST(:tags AS text[])) AS u (c, k, s, r, t)
ORDER BY u.c
ON CONFLICT (customer_id) DO UPDATE SET
    kind = excluded.kind,
    registered_at = excluded.registered_at,
    lifecycle_stage = CASE WHEN customer_profiles.master_version = 0 THEN excluded.lifecycle_stage
                           ELSE customer_profiles.lifecycle_stage END,
    tags = CASE WHEN customer_profiles.master_version = 0 AND NOT customer_profiles.erased THEN excluded.tags
                ELSE customer_profiles.tags END
""")


@handlers.on_batch(CustomerRegisteredV1)
async def record_registered_customers(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """Registrations (an import brings thousands): one upsert and one membership refresh.

    A registration of a customer merged away before it was applied (a replay) combines
    into the survivor; a batch holding one is applied one event at a time, in order, as
    its effect depends on the order.
    """
    payloads = [cast(CustomerRegisteredV1, payload) for _, payload in events]
    survivors = await projection.resolve_many(session, (p.customer_id for p in payloads))
    if any(survivors[p.customer_id] != p.customer_id for p in payloads):
        for payload in payloads:
            await _record_registered_customer(session, payload, survivors[payload.customer_id])
        return
    latest = {p.customer_id: p for p in payloads}  # a second registration of one customer wins, as one by one
    await _upsert_registered(session, list(latest.values()))


async def _upsert_registered(session: AsyncSession, payloads: Sequence[CustomerRegisteredV1]) -> None:
    ids = sorted(p.customer_id for p in payloads)
    by_id = {p.customer_id: p for p in payloads}
    await session.execute(
        _UPSERT_REGISTERED,
        {
            "ids": ids,
            "kinds": [by_id[c].kind for c in ids],
            "stages": [by_id[c].lifecycle_stage for c in ids],
            "registered": [by_id[c].registered_at for c in ids],
            "tags": [json.dumps(sorted(set(by_id[c].tags))) for c in ids],
        },
    )
    await membership.refresh_customers(session, ids)


async def _record_registered_customer(
    session: AsyncSession, payload: CustomerRegisteredV1, survivor: uuid.UUID
) -> None:
    if survivor != payload.customer_id:
        # Merged away before its registration was applied (a replay: the two travel in
        # different partitions). Combine into the survivor as the merge would have.
        await projection.ensure_profile(session, survivor)
        await session.execute(
            text(
                "UPDATE customer_profiles SET tags = CASE WHEN erased THEN tags ELSE "
                "ARRAY(SELECT DISTINCT t FROM unnest(tags || CAST(:tags AS text[])) AS t ORDER BY t) END, "
                "registered_at = least(registered_at, :registered_at), kind = coalesce(kind, :kind), "
                "lifecycle_stage = coalesce(lifecycle_stage, :stage), updated_at = now() WHERE customer_id = :c"
            ),
            {
                "tags": sorted(set(payload.tags)),
                "registered_at": payload.registered_at,
                "kind": payload.kind,
                "stage": payload.lifecycle_stage,
                "c": survivor,
            },
        )
        await membership.refresh_customer(session, survivor)
        return
    await _upsert_registered(session, [payload])


@handlers.on(CustomerUpdatedV1)
async def record_updated_customer(session: AsyncSession, event: CloudEvent, payload: CustomerUpdatedV1) -> None:
    customer_id = await projection.resolve(session, payload.customer_id)
    if customer_id != payload.customer_id:
        return
    await projection.ensure_profile(session, customer_id)
    await session.execute(
        text(
            # The CAST types the CASE: with an untyped '{}' and parameter PostgreSQL resolves it to text.
            "UPDATE customer_profiles SET lifecycle_stage = :stage, tags = CASE WHEN erased THEN '{}' ELSE CAST(:tags AS text[]) END, "
            "master_version = :version, updated_at = now() WHERE customer_id = :c AND master_version < :version"
        ),
        {
            "stage": payload.lifecycle_stage,
            "tags": sorted(set(payload.tags)),
            "version": payload.version,
            "c": customer_id,
        },
    )
    await membership.refresh_customer(session, customer_id)


@handlers.on(CustomersMergedV1)
async def record_merge(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    survivor = await projection.resolve(session, payload.customer_id)
    merged = payload.merged_customer_id
    if merged == survivor:
        return
    # Later events about the merged id (and ids merged into it before) follow to the survivor.
    await session.execute(
        pg_insert(customer_aliases)
        .values(merged_customer_id=merged, customer_id=survivor, merged_at=payload.merged_at)
        .on_conflict_do_update(index_elements=["merged_customer_id"], set_={"customer_id": survivor})
    )
    await session.execute(
        text("UPDATE customer_aliases SET customer_id = :s WHERE customer_id = :m"), {"s": survivor, "m": merged}
    )
    for table in (seg_orders, seg_tickets, seg_consents):
        await session.execute(table.update().where(table.c.customer_id == merged).values(customer_id=survivor))
    await projection.ensure_profile(session, survivor)
    # Combine what is not derived from rows: tags (union), registration (earliest), the latest survey.
    await session.execute(
        text("""
        UPDATE customer_profiles AS s SET
            tags = CASE WHEN s.erased THEN s.tags ELSE ARRAY(SELECT DISTINCT t FROM unnest(s.tags || m.tags) AS t ORDER BY t) END,
            registered_at = least(s.registered_at, m.registered_at),
            kind = coalesce(s.kind, m.kind),
            lifecycle_stage = coalesce(s.lifecycle_stage, m.lifecycle_stage),
            satisfaction_kind = CASE WHEN m.satisfaction_at > s.satisfaction_at OR s.satisfaction_at IS NULL THEN m.satisfaction_kind ELSE s.satisfaction_kind END,
            satisfaction_score = CASE WHEN m.satisfaction_at > s.satisfaction_at OR s.satisfaction_at IS NULL THEN m.satisfaction_score ELSE s.satisfaction_score END,
            satisfaction_at = greatest(s.satisfaction_at, m.satisfaction_at),
            updated_at = now()
        FROM customer_profiles AS m
        WHERE s.customer_id = :s AND m.customer_id = :m
        """),
        {"s": survivor, "m": merged},
    )
    # The merged customer leaves its segments (it no longer exists) and its profile goes.
    for segment_id, name in (
        await session.execute(
            text(
                "SELECT m.segment_id, s.name FROM segment_members m JOIN segments s ON s.id = m.segment_id WHERE m.customer_id = :m"
            ),
            {"m": merged},
        )
    ).all():
        await membership.remove_customer(session, merged, segment_id, name, "event")
    await session.execute(customer_profiles.delete().where(customer_profiles.c.customer_id == merged))
    await _refresh_all(session, survivor)


@handlers.on(CustomerErasedV1)
async def record_erasure(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    """Drop personal data (tags, consent records, survey answers); keep non-personal aggregates."""
    customer_id = await projection.resolve(session, payload.customer_id)
    await projection.ensure_profile(session, customer_id)
    await session.execute(seg_consents.delete().where(seg_consents.c.customer_id == customer_id))
    await session.execute(
        text(
            "UPDATE customer_profiles SET erased = true, tags = '{}', consents = '{}', satisfaction_kind = NULL, "
            "satisfaction_score = NULL, satisfaction_at = NULL, updated_at = now() WHERE customer_id = :c"
        ),
        {"c": customer_id},
    )
    await membership.refresh_customer(session, customer_id)


async def _consent(session: AsyncSession, payload: ConsentGrantedV1 | ConsentWithdrawnV1, granted: bool) -> None:
    customer_id = await projection.resolve(session, payload.customer_id)
    await projection.ensure_profile(session, customer_id)
    if await session.scalar(text("SELECT erased FROM customer_profiles WHERE customer_id = :c"), {"c": customer_id}):
        return  # an erased customer keeps no consent records
    statement = pg_insert(seg_consents).values(
        consent_id=payload.consent_id,
        customer_id=customer_id,
        purpose=payload.purpose,
        granted=granted,
        occurred_at=payload.occurred_at,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["consent_id"],
            set_={
                "granted": statement.excluded.granted,
                "occurred_at": statement.excluded.occurred_at,
                "purpose": statement.excluded.purpose,
            },
            where=seg_consents.c.occurred_at <= statement.excluded.occurred_at,
        )
    )
    await projection.refresh_consents(session, customer_id)
    await membership.refresh_customer(session, customer_id)


@handlers.on(ConsentGrantedV1)
async def record_consent_granted(session: AsyncSession, event: CloudEvent, payload: ConsentGrantedV1) -> None:
    await _consent(session, payload, True)


@handlers.on(ConsentWithdrawnV1)
async def record_consent_withdrawn(session: AsyncSession, event: CloudEvent, payload: ConsentWithdrawnV1) -> None:
    await _consent(session, payload, False)


OrderEvent = OrderPlacedV1 | OrderPaidV1 | OrderFulfilledV1 | OrderDeliveredV1 | OrderCancelledV1 | OrderReturnedV1
TicketEvent = (
    TicketOpenedV1 | TicketFirstRespondedV1 | TicketResolvedV1 | TicketReopenedV1 | TicketClosedV1 | SlaBreachedV1
)


S = TypeVar("S", bound=OrderEvent | TicketEvent)

_UPSERT_ORDERS = text("""
INSERT INTO seg_orders (order_id, customer_id, status, placed_at, currency, gross_amount, net_amount, margin, occurred_at)
SELECT * FROM unnest(CAST(:order_id AS uuid[]), CAST(:customer_id AS uuid[]), CAST(:status AS text[]),
                     CAST(:placed_at AS timestamptz[]), CAST(:currency AS text[]), CAST(:gross_amount AS numeric[]),
                     CAST(:net_amount AS numeric[]), CAST(:margin AS numeric[]), CAST(:occurred_at AS timestamptz[]))
ORDER BY 1
ON CONFLICT (order_id) DO UPDATE SET
    status = excluded.status, placed_at = excluded.placed_at, currency = excluded.currency,
    gross_amount = excluded.gross_amount, net_amount = excluded.net_amount, margin = excluded.margin,
    occurred_at = excluded.occurred_at
WHERE seg_orders.occurred_at <= excluded.occurred_at
""")

_UPSERT_TICKETS = text("""
INSERT INTO seg_tickets (ticket_id, customer_id, type, opened_at, occurred_at)
SELECT * FROM unnest(CAST(:ticket_id AS uuid[]), CAST(:customer_id AS uuid[]), CAST(:type AS text[]),
                     CAST(:opened_at AS timestamptz[]), CAST(:occurred_at AS timestamptz[]))
ORDER BY 1
ON CONFLICT (ticket_id) DO UPDATE SET type = excluded.type, occurred_at = excluded.occurred_at
WHERE seg_tickets.occurred_at <= excluded.occurred_at
""")


def newest_snapshots(payloads: Iterable[S], key: Callable[[S], uuid.UUID]) -> list[S]:
    """The newest snapshot per key (by ``occurred_at``; a tie goes to the later one, as in
    the one-by-one path, whose guard is ``stored.occurred_at <= new.occurred_at``)."""
    newest: dict[uuid.UUID, S] = {}
    for payload in payloads:
        held = newest.get(key(payload))
        if held is None or held.occurred_at <= payload.occurred_at:
            newest[key(payload)] = payload
    return list(newest.values())


@handlers.on_batch(OrderPlacedV1, OrderPaidV1, OrderFulfilledV1, OrderDeliveredV1, OrderCancelledV1, OrderReturnedV1)
async def record_orders(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """Every order event is the whole order after it: keep the newest snapshot per order.

    Set-based for the batch: one upsert of the newest snapshot of each order (the guard
    keeps a newer stored one), then the touched customers' aggregates, scores and
    membership, one statement each.
    """
    snapshots = newest_snapshots((cast(OrderEvent, payload) for _, payload in events), lambda p: p.order_id)
    survivors = await projection.resolve_many(session, (p.customer_id for p in snapshots))
    touched = sorted(set(survivors.values()))
    await projection.ensure_profiles(session, touched)
    await session.execute(
        _UPSERT_ORDERS,
        {
            "order_id": [p.order_id for p in snapshots],
            "customer_id": [survivors[p.customer_id] for p in snapshots],
            "status": [p.status for p in snapshots],
            "placed_at": [p.placed_at for p in snapshots],
            "currency": [p.currency for p in snapshots],
            "gross_amount": [p.gross_amount for p in snapshots],
            "net_amount": [p.net_amount for p in snapshots],
            "margin": [p.margin for p in snapshots],
            "occurred_at": [p.occurred_at for p in snapshots],
        },
    )
    await projection.refresh_orders(session, touched, get_settings().currency)
    await after_change(session, touched)


@handlers.on_batch(
    TicketOpenedV1, TicketFirstRespondedV1, TicketResolvedV1, TicketReopenedV1, TicketClosedV1, SlaBreachedV1
)
async def record_tickets(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """The newest snapshot per ticket, the touched customers' ticket counts and membership."""
    snapshots = newest_snapshots((cast(TicketEvent, payload) for _, payload in events), lambda p: p.ticket_id)
    survivors = await projection.resolve_many(session, (p.customer_id for p in snapshots))
    touched = sorted(set(survivors.values()))
    await projection.ensure_profiles(session, touched)
    await session.execute(
        _UPSERT_TICKETS,
        {
            "ticket_id": [p.ticket_id for p in snapshots],
            "customer_id": [survivors[p.customer_id] for p in snapshots],
            "type": [p.type for p in snapshots],
            "opened_at": [p.opened_at for p in snapshots],
            "occurred_at": [p.occurred_at for p in snapshots],
        },
    )
    await projection.refresh_tickets(session, touched)
    await membership.refresh_customers(session, touched)


@handlers.on(SurveyAnsweredV1)
async def record_survey(session: AsyncSession, event: CloudEvent, payload: SurveyAnsweredV1) -> None:
    customer_id = await projection.resolve(session, payload.customer_id)
    await projection.ensure_profile(session, customer_id)
    await session.execute(
        text(
            "UPDATE customer_profiles SET satisfaction_kind = :kind, satisfaction_score = :score, satisfaction_at = :at, updated_at = now() "
            "WHERE customer_id = :c AND NOT erased AND (satisfaction_at IS NULL OR satisfaction_at <= :at)"
        ),
        {"kind": payload.kind, "score": payload.score, "at": payload.answered_at, "c": customer_id},
    )
    await membership.refresh_customer(session, customer_id)


async def _refresh_all(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await projection.refresh_orders(session, customer_id, get_settings().currency)
    await projection.refresh_tickets(session, customer_id)
    await projection.refresh_consents(session, customer_id)
    await after_change(session, customer_id)
