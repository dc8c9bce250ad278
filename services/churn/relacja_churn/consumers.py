"""The event consumer: the projection of customers, orders and survey answers.

Order events carry the whole order, so one row per order is overwritten by each newer
snapshot (``occurred_at`` decides; an older snapshot arriving late is ignored), and a
replay converges to the same rows. After each order change the customer is re-scored
at once with the active run's parameters.

Merges re-key the merged customer's orders and answers to the survivor, remember the
alias for late events, drop the merged id's scores and re-score the survivor. Erasure
sets ``erased_at``: the service holds no personal data — only ids, days, amounts,
survey scores and model scores, the non-personal aggregates CustomerErasedV1 allows to
keep — and erased customers are left out of the score lists.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts import CloudEvent
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

from .app.rescoring import rescore_customer
from .app.store import resolve_alias
from .domain.purchases import is_fully_returned
from .tables import aliases, customers, orders, scores, surveys

__all__ = ["handlers"]

handlers = EventHandlers()


@handlers.on(CustomerRegisteredV1)
async def on_registered(session: AsyncSession, event: CloudEvent, payload: CustomerRegisteredV1) -> None:
    await session.execute(
        pg_insert(customers)
        .values(customer_id=payload.customer_id, registered_at=payload.registered_at)
        .on_conflict_do_update(index_elements=["customer_id"], set_={"registered_at": payload.registered_at})
    )


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


async def _apply_order(session: AsyncSession, payload: _OrderSnapshot) -> None:
    customer_id = await resolve_alias(session, payload.customer_id)
    values = {
        "customer_id": customer_id,
        "status": payload.status,
        "placed_on": utc_day(payload.placed_at),
        "net_amount": payload.net_amount,
        "currency": payload.currency,
        "fully_returned": is_fully_returned(payload),
        "snapshot_at": payload.occurred_at,
    }
    written = await session.execute(
        pg_insert(orders)
        .values(order_id=payload.order_id, **values)
        .on_conflict_do_update(
            index_elements=["order_id"], set_=values, where=orders.c.snapshot_at <= payload.occurred_at
        )
        .returning(orders.c.order_id)
    )
    if written.first() is not None:
        await rescore_customer(session, customer_id)


for _model in (OrderPlacedV1, OrderPaidV1, OrderFulfilledV1, OrderDeliveredV1, OrderCancelledV1, OrderReturnedV1):

    @handlers.on(_model)
    async def on_order(session: AsyncSession, event: CloudEvent, payload: _OrderSnapshot) -> None:
        await _apply_order(session, payload)


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
