"""Announcing risk-tier changes (``ChurnRiskTierChangedV1``) through the outbox.

``churn_customers.risk_tier`` holds the last tier announced for each customer; a score
whose tier differs from it (or a customer without one) is announced and the column
updated, in the transaction that stored the score — for the customers of a consumer batch
with one read, one ``emit_many`` and one upsert.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import ARRAY, any_, cast, select, text
from sqlalchemy.dialects.postgresql import UUID as PG_UUID
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.churn import ChurnRiskTierChangedV1

from ..tables import customers, scores
from .events import emit_many

__all__ = ["announce_customer_tier", "announce_customer_tiers", "announce_run_tiers"]

_BATCH = 5_000


async def announce_customer_tier(
    session: AsyncSession, *, customer_id: uuid.UUID, run_id: uuid.UUID, risk_tier: str, p_alive: float
) -> bool:
    """Announce one customer's tier if it changed; True when an event was written."""
    return await announce_customer_tiers(session, run_id=run_id, tiers={customer_id: (risk_tier, p_alive)}) > 0


async def announce_customer_tiers(
    session: AsyncSession, *, run_id: uuid.UUID, tiers: Mapping[uuid.UUID, tuple[str, float]]
) -> int:
    """Announce the tiers (customer → (tier, p_alive)) that changed; returns how many did."""
    if not tiers:
        return 0
    ids = sorted(tiers)
    previous: dict[uuid.UUID, str | None] = dict.fromkeys(ids)
    for customer_id, tier in await session.execute(
        select(customers.c.customer_id, customers.c.risk_tier)
        .where(customers.c.customer_id == any_(cast(ids, ARRAY(PG_UUID(as_uuid=True)))))
        .order_by(customers.c.customer_id)
        .with_for_update()
    ):
        previous[customer_id] = tier
    changed = [customer_id for customer_id in ids if previous[customer_id] != tiers[customer_id][0]]
    if not changed:
        return 0
    now = datetime.now(UTC)
    await emit_many(
        session,
        [
            ChurnRiskTierChangedV1(
                customer_id=customer_id,
                run_id=run_id,
                previous_risk_tier=previous[customer_id],
                risk_tier=tiers[customer_id][0],
                probability_alive=min(max(tiers[customer_id][1], 0.0), 1.0),
                changed_at=now,
            )
            for customer_id in changed
        ],
    )
    await session.execute(
        text(
            "INSERT INTO churn_customers (customer_id, risk_tier, risk_tier_run_id) "
            "SELECT c, t, CAST(:run_id AS uuid) FROM unnest(CAST(:ids AS uuid[]), CAST(:tiers AS text[])) AS u (c, t) "
            "ON CONFLICT (customer_id) DO UPDATE SET risk_tier = excluded.risk_tier, "
            "risk_tier_run_id = excluded.risk_tier_run_id"
        ),
        {"ids": changed, "tiers": [tiers[c][0] for c in changed], "run_id": run_id},
    )
    return len(changed)


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
