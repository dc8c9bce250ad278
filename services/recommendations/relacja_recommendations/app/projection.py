"""The projection, from events only: customers, profiling consent, the catalogue, baskets.

    resolve(session, customer_id)        → the id baskets are kept under: the survivor of a
                                           merge, None for an erased customer (kept anonymous)
    apply_orders_batch(session, payloads, ...) → order snapshots, baskets and counts (one statement)
    apply_product(session, payload)      the catalogue row, highest version wins
    apply_consent(session, ..., granted) → the customer, when the profiling consent record changed
    enqueue(session, customer_id)        queue the customer's suggestions to be announced
    apply_merge / apply_erasure          re-key to the survivor / unlink from the person
    has_profiling_consent(session, id)

Every order event carries the whole order, so the newest snapshot (``occurred_at``) wins
and an older one arriving late changes nothing; a return lowers the units kept and a
fully returned product leaves the basket; a cancelled order has an empty basket. The
statistics move with every basket change (app/statistics.py), so replaying the topics
into an empty database converges to the same baskets and counts.

Erasure keeps the baskets but unlinks them (``customer_id`` null): what was bought
together stays in the anonymous pair counts, nothing ties it to the person any more, and
the consent records go. A merge re-keys orders, baskets and consents to the survivor;
late events of the merged id follow ``known_customers.merged_into``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import ProductChangedV1, _OrderSnapshot
from relacja_servicekit.known_customers import project_erased, project_merged

from ..domain.baskets import kept_products
from ..tables import known_customers, rec_basket_items, rec_consents, rec_orders, rec_products, rec_refresh_queue
from .statistics import LineFacts, OrderFacts, apply_orders

__all__ = [
    "apply_consent",
    "apply_erasure",
    "apply_merge",
    "apply_orders_batch",
    "apply_product",
    "enqueue",
    "has_profiling_consent",
    "resolve",
]


async def resolve(session: AsyncSession, customer_id: uuid.UUID) -> uuid.UUID | None:
    row = (
        await session.execute(
            select(known_customers.c.state, known_customers.c.merged_into).where(
                known_customers.c.customer_id == customer_id
            )
        )
    ).first()
    if row is None or row.state == "active":
        return customer_id
    if row.state == "merged":
        return row.merged_into
    return None


def order_facts(payload: _OrderSnapshot) -> OrderFacts:
    """What the statistics need of an order snapshot: the order, its lines' products and its basket."""
    return OrderFacts(
        order_id=payload.order_id,
        customer_id=payload.customer_id,
        status=payload.status,
        placed_at=payload.placed_at,
        occurred_at=payload.occurred_at,
        currency=payload.currency,
        # Products seen in orders before their catalogue event: known by SKU, category and
        # price until the catalogue's event (version ≥ 1) says more.
        lines=[
            LineFacts(line.product_id, line.sku, line.category, line.unit_price, line.unit_cost)
            for line in payload.lines
            if line.product_id is not None
        ],
        kept=kept_products(payload.status, payload.lines),
    )


async def apply_orders_batch(
    session: AsyncSession, payloads: Sequence[_OrderSnapshot], default_window_start: datetime
) -> int:
    """Order snapshots, their baskets and the counts, in one statement (app/statistics.py)."""
    return await apply_orders(session, [order_facts(p) for p in payloads], default_window_start)


async def apply_product(session: AsyncSession, payload: ProductChangedV1) -> None:
    values = {
        "sku": payload.sku,
        "name": payload.name,
        "category": payload.category,
        "list_price": payload.list_price,
        "unit_cost": payload.unit_cost,
        "currency": payload.currency,
        "active": payload.active,
        "version": payload.version,
        "updated_at": payload.occurred_at,
    }
    await session.execute(
        pg_insert(rec_products)
        .values(product_id=payload.product_id, **values)
        .on_conflict_do_update(
            index_elements=["product_id"], set_=values, where=rec_products.c.version < payload.version
        )
    )


async def apply_consent(
    session: AsyncSession, customer_id: uuid.UUID, consent_id: uuid.UUID, granted: bool, occurred_at: datetime
) -> uuid.UUID | None:
    """Record a profiling consent change; the customer it applies to, or None if nothing changed."""
    resolved = await resolve(session, customer_id)
    if resolved is None:
        return None  # an erased customer keeps no consent records
    statement = pg_insert(rec_consents).values(
        consent_id=consent_id, customer_id=resolved, granted=granted, occurred_at=occurred_at
    )
    written = await session.execute(
        statement.on_conflict_do_update(
            index_elements=["consent_id"],
            set_={"granted": statement.excluded.granted, "occurred_at": statement.excluded.occurred_at},
            where=rec_consents.c.occurred_at <= statement.excluded.occurred_at,
        ).returning(rec_consents.c.consent_id)
    )
    if written.first() is None:
        return None
    await enqueue(session, resolved, consent_changed=True)
    return resolved


async def enqueue(session: AsyncSession, customer_id: uuid.UUID, *, consent_changed: bool = False) -> None:
    """Queue the customer for the announcer (workers.py); a consent change is announced even without consent."""
    statement = pg_insert(rec_refresh_queue).values(customer_id=customer_id, consent_changed=consent_changed)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["customer_id"],
            set_={"consent_changed": rec_refresh_queue.c.consent_changed | statement.excluded.consent_changed},
        )
    )


async def has_profiling_consent(session: AsyncSession, customer_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(
            text("SELECT EXISTS (SELECT 1 FROM rec_consents WHERE customer_id = :c AND granted)"), {"c": customer_id}
        )
    )


async def apply_merge(session: AsyncSession, survivor: uuid.UUID, merged: uuid.UUID) -> uuid.UUID | None:
    """Re-key the merged customer's rows to the survivor (itself resolved); the survivor, or None if erased."""
    target = await resolve(session, survivor)
    if target == merged:
        return None
    await project_merged(session, known_customers, survivor, merged)
    if target is None:  # merged into a customer erased since: the merged one's rows are unlinked too
        await session.execute(rec_consents.delete().where(rec_consents.c.customer_id == merged))
    else:
        await session.execute(
            update(rec_consents).where(rec_consents.c.customer_id == merged).values(customer_id=target)
        )
    for table in (rec_orders, rec_basket_items):
        await session.execute(update(table).where(table.c.customer_id == merged).values(customer_id=target))
    await session.execute(rec_refresh_queue.delete().where(rec_refresh_queue.c.customer_id == merged))
    if target is not None:
        await enqueue(session, target)
    return target


async def apply_erasure(session: AsyncSession, customer_id: uuid.UUID) -> None:
    await project_erased(session, known_customers, customer_id)
    await session.execute(rec_consents.delete().where(rec_consents.c.customer_id == customer_id))
    await session.execute(rec_refresh_queue.delete().where(rec_refresh_queue.c.customer_id == customer_id))
    for table in (rec_orders, rec_basket_items):
        await session.execute(update(table).where(table.c.customer_id == customer_id).values(customer_id=None))
