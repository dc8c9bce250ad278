"""The event consumer: the projection of customers, orders and survey answers.

Order events carry the whole order, so one row per order is overwritten by each newer
snapshot (``occurred_at`` decides; an older snapshot arriving late is ignored), and a
replay converges to the same rows. After order changes the customers are re-scored at
once with the active run's parameters.

Order events and registrations are applied set-based per consumer batch (``on_batch``):
one upsert of the newest snapshot per order, one re-scoring of the customers whose rows
changed (app/rescoring.py). The one-by-one fallback hands them one event at a time.

Merges re-key the merged customer's orders and answers to the survivor, remember the
alias for late events, drop the merged id's scores and re-score the survivor. Erasure
sets ``erased_at``: the service holds no personal data — only ids, days, amounts,
survey scores and model scores, the non-personal aggregates CustomerErasedV1 allows to
keep — and erased customers are left out of the score lists.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import delete, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import (
    CustomerErasedV1,
    CustomerRegisteredV1,
    CustomersMergedV1,
    OrderCancelledV1,
    OrderDeliveredV1,
    OrderFulfilledV1,
    OrderPaidV1,
    OrderPlacedV1,
    OrderReturnedV1,
    SurveyAnsweredV1,
)
from relacja_contracts.events.orders import _OrderSnapshot
from relacja_messaging import EventHandlers

from .app.rescoring import rescore_customer, rescore_customers
from .app.store import resolve_alias, resolve_aliases
from .domain.purchases import is_fully_returned
from .tables import aliases, customers, orders, scores, surveys

__all__ = ["handlers", "newest_snapshots"]

handlers = EventHandlers()


@handlers.on(CustomerErasedV1)
async def on_erased(session: AsyncSession, event: CloudEvent, payload: CustomerErasedV1) -> None:
    await session.execute(
        pg_insert(customers)
        .values(customer_id=payload.customer_id, erased_at=payload.erased_at)
        .on_conflict_do_update(index_elements=["customer_id"], set_={"erased_at": payload.erased_at})
    )


@handlers.on(CustomersMergedV1)
async def on_merged(session: AsyncSession, event: CloudEvent, payload: CustomersMergedV1) -> None:
    survivor, merged = payload.customer_id, payload.merged_customer_id
    await session.execute(
        pg_insert(aliases)
        .values(merged_customer_id=merged, customer_id=survivor)
        .on_conflict_do_update(index_elements=["merged_customer_id"], set_={"customer_id": survivor})
    )
    # Earlier merges into the now-gone id follow it to the survivor.
    await session.execute(update(aliases).where(aliases.c.customer_id == merged).values(customer_id=survivor))
    await session.execute(update(orders).where(orders.c.customer_id == merged).values(customer_id=survivor))
    await session.execute(update(surveys).where(surveys.c.customer_id == merged).values(customer_id=survivor))
    await session.execute(delete(scores).where(scores.c.customer_id == merged))
    await session.execute(delete(customers).where(customers.c.customer_id == merged))
    await rescore_customer(session, survivor)


def utc_day(moment: datetime):
    """The UTC calendar day of a timestamp (a naive one is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).date()


def newest_snapshots(payloads: Iterable[_OrderSnapshot]) -> list[_OrderSnapshot]:
    """The newest snapshot per order (by ``occurred_at``; a tie goes to the later one, as
    the one-by-one guard ``stored.snapshot_at <= new.occurred_at`` would leave it)."""
    newest: dict[uuid.UUID, _OrderSnapshot] = {}
    for payload in payloads:
        held = newest.get(payload.order_id)
        if held is None or held.occurred_at <= payload.occurred_at:
            newest[payload.order_id] = payload
    return list(newest.values())


# Arrays through unnest: one statement text for any batch size, prepared once (a
# multi-row VALUES is compiled anew for every row count, which the profile showed).
_UPSERT_ORDERS = text("""
INSERT INTO churn_orders (order_id, customer_id, status, placed_on, net_amount, currency, fully_returned, snapshot_at)
SELECT * FROM unnest(CAST(:order_id AS uuid[]), CAST(:customer_id AS uuid[]), CAST(:status AS text[]),
                     CAST(:placed_on AS date[]), CAST(:net_amount AS numeric[]), CAST(:currency AS text[]),
                     CAST(:fully_returned AS boolean[]), CAST(:snapshot_at AS timestamptz[]))
ON CONFLICT (order_id) DO UPDATE SET
    customer_id = excluded.customer_id, status = excluded.status, placed_on = excluded.placed_on,
    net_amount = excluded.net_amount, currency = excluded.currency, fully_returned = excluded.fully_returned,
    snapshot_at = excluded.snapshot_at
WHERE churn_orders.snapshot_at <= excluded.snapshot_at
RETURNING customer_id
""")


@handlers.on_batch(OrderPlacedV1, OrderPaidV1, OrderFulfilledV1, OrderDeliveredV1, OrderCancelledV1, OrderReturnedV1)
async def on_orders(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    """One upsert of the batch's newest snapshot per order, then one re-scoring of the
    customers whose rows changed (a snapshot older than the stored one changes nothing)."""
    snapshots = newest_snapshots(cast(_OrderSnapshot, payload) for _, payload in events)
    survivors = await resolve_aliases(session, (p.customer_id for p in snapshots))
    snapshots.sort(key=lambda p: p.order_id)  # rows locked in id order, as by every batch writer
    written = await session.execute(
        _UPSERT_ORDERS,
        {
            "order_id": [p.order_id for p in snapshots],
            "customer_id": [survivors[p.customer_id] for p in snapshots],
            "status": [p.status for p in snapshots],
            "placed_on": [utc_day(p.placed_at) for p in snapshots],
            "net_amount": [p.net_amount for p in snapshots],
            "currency": [p.currency for p in snapshots],
            "fully_returned": [is_fully_returned(p) for p in snapshots],
            "snapshot_at": [p.occurred_at for p in snapshots],
        },
    )
    touched = set(written.scalars())
    if touched:
        await rescore_customers(session, sorted(touched))


@handlers.on_batch(CustomerRegisteredV1)
async def on_registered(session: AsyncSession, events: Sequence[tuple[CloudEvent, EventPayload]]) -> None:
    # The last registration of a customer in the batch wins, as one by one.
    registered = {p.customer_id: p.registered_at for p in (cast(CustomerRegisteredV1, e) for _, e in events)}
    statement = pg_insert(customers).values(
        [{"customer_id": c, "registered_at": registered[c]} for c in sorted(registered)]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"], set_={"registered_at": statement.excluded.registered_at}
        )
    )


@handlers.on(SurveyAnsweredV1)
async def on_survey(session: AsyncSession, event: CloudEvent, payload: SurveyAnsweredV1) -> None:
    customer_id = await resolve_alias(session, payload.customer_id)
    await session.execute(
        pg_insert(surveys)
        .values(
            survey_id=payload.survey_id,
            customer_id=customer_id,
            kind=payload.kind,
            score=payload.score,
            answered_at=payload.answered_at,
        )
        .on_conflict_do_nothing(index_elements=["survey_id"])
    )
