"""Announcing risk-tier changes (``ChurnRiskTierChangedV1``) through the outbox.

``churn_customers.risk_tier`` holds the last tier announced for each customer; a score
whose tier differs from it (or a customer without one) is announced and the column
updated, in the transaction that stored the score.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.churn import ChurnRiskTierChangedV1

from ..tables import customers, scores
from .events import emit, emit_many

__all__ = ["announce_customer_tier", "announce_run_tiers"]

_BATCH = 5_000


async def announce_customer_tier(
    session: AsyncSession, *, customer_id: uuid.UUID, run_id: uuid.UUID, risk_tier: str, p_alive: float
) -> bool:
    """Announce one customer's tier if it changed; True when an event was written."""
    previous = (
        await session.execute(
            select(customers.c.risk_tier).where(customers.c.customer_id == customer_id).with_for_update()
        )
    ).first()
    previous_tier = previous.risk_tier if previous else None
    if previous_tier == risk_tier:
        return False
    await emit(
        session,
        ChurnRiskTierChangedV1(
            customer_id=customer_id,
            run_id=run_id,
            previous_risk_tier=previous_tier,
            risk_tier=risk_tier,
            probability_alive=min(max(p_alive, 0.0), 1.0),
            changed_at=datetime.now(UTC),
        ),
    )
    await session.execute(
        pg_insert(customers)
        .values(customer_id=customer_id, risk_tier=risk_tier, risk_tier_run_id=run_id)
        .on_conflict_do_update(
            index_elements=["customer_id"], set_={"risk_tier": risk_tier, "risk_tier_run_id": run_id}
        )
    )
    return True


async def announce_run_tiers(session: AsyncSession, run_id: uuid.UUID) -> int:
    """Announce every tier the run changed (``emit_many`` per batch); returns the count."""
    changed = (
        await session.execute(
            select(scores.c.customer_id, scores.c.risk_tier, scores.c.p_alive, customers.c.risk_tier.label("previous"))
            .select_from(scores.outerjoin(customers, customers.c.customer_id == scores.c.customer_id))
            .where(scores.c.run_id == run_id, customers.c.risk_tier.is_distinct_from(scores.c.risk_tier))
        )
    ).all()
    now = datetime.now(UTC)
    for start in range(0, len(changed), _BATCH):
        await emit_many(
            session,
            [
                ChurnRiskTierChangedV1(
                    customer_id=row.customer_id,
                    run_id=run_id,
                    previous_risk_tier=row.previous,
                    risk_tier=row.risk_tier,
                    probability_alive=min(max(row.p_alive, 0.0), 1.0),
                    changed_at=now,
                )
                for row in changed[start : start + _BATCH]
            ],
        )
    await session.execute(
        text(
            """
            INSERT INTO churn_customers (customer_id, risk_tier, risk_tier_run_id)
            SELECT customer_id, risk_tier, run_id FROM churn_scores WHERE run_id = :run_id
            ON CONFLICT (customer_id) DO UPDATE
               SET risk_tier = EXCLUDED.risk_tier, risk_tier_run_id = EXCLUDED.risk_tier_run_id
            """
        ),
        {"run_id": run_id},
    )
    return len(changed)
