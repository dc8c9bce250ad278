"""The set-based batch handlers of churn's consumer, on a scratch database with churn's
tables and an active model run: a batch with several events of the same customer, out of
offset order, leaves the same orders, scores and announced tiers as the same events one
at a time; a replayed batch changes no score and announces nothing.

Both paths run on mirrored customers in one database (same days and amounts)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from relacja_churn.consumers import handlers
from relacja_churn.tables import metadata
from relacja_contracts import CloudEvent, EventPayload
from relacja_contracts.events import CustomerRegisteredV1, OrderDeliveredV1, OrderPaidV1

from .conftest import cancelled, order_fields, placed, returned

TODAY = datetime.now(UTC).date()
SCORE = (
    "as_of, x, t_x, t_cal, monetary, first_purchase_on, last_purchase_on, p_alive, expected_purchases, "
    "expected_spend, clv, risk_tier, value_band"
)


def pairs(payloads: Sequence[EventPayload]) -> list[tuple[CloudEvent, EventPayload]]:
    return [(CloudEvent.for_payload(p, source="/relacja/tests"), p) for p in payloads]


async def one_by_one(sessions: async_sessionmaker[AsyncSession], payloads: Sequence[EventPayload]) -> None:
    for event, payload in pairs(payloads):
        registration = handlers.get(event.type)
        assert registration is not None
        async with sessions() as session, session.begin():
            await registration.handler(session, event, payload)


async def as_batch(sessions: async_sessionmaker[AsyncSession], payloads: Sequence[EventPayload]) -> None:
    """As the consumer does: each run of consecutive events of one batch handler in one call."""
    async with sessions() as session, session.begin():
        run: list[EventPayload] = []
        for payload in [*payloads, None]:
            registration = handlers.get(payload.event_type) if payload is not None else None
            if run and (registration is None or registration.batch is not handlers.get(run[0].event_type).batch):  # type: ignore[union-attr]
                batch = handlers.get(run[0].event_type).batch  # type: ignore[union-attr]
                assert batch is not None
                await batch(session, pairs(run))
                run = []
            if payload is not None:
                run.append(payload)


def scenario(customer: uuid.UUID, other: uuid.UUID) -> list[EventPayload]:
    o1, o2, o3, o4, o5 = (uuid.uuid4() for _ in range(5))
    d = TODAY - timedelta(days=200)
    at = datetime.now(UTC)
    return [
        CustomerRegisteredV1(
            customer_id=customer,
            kind="person",
            display_name="T",
            lifecycle_stage="customer",
            registered_at=at - timedelta(days=400),
            tags=[],
        ),
        placed(customer, o5, d - timedelta(days=60), "40.00"),
        # o1: delivered (newest) first, then the older placed and paid snapshots.
        OrderDeliveredV1(**order_fields(customer, o1, d, "120.00", status="delivered", occurred_at=at)),
        placed(customer, o1, d, "120.00", occurred_at=at - timedelta(hours=3)),
        OrderPaidV1(**order_fields(customer, o1, d, "120.00", status="paid", occurred_at=at - timedelta(hours=2))),
        placed(customer, o2, d + timedelta(days=30), "75.50"),
        # o3: placed, then cancelled; o4 of the other customer: placed, then fully returned.
        placed(customer, o3, d + timedelta(days=40), "300.00", occurred_at=at - timedelta(hours=3)),
        cancelled(customer, o3, d + timedelta(days=40), "300.00", occurred_at=at - timedelta(hours=1)),
        placed(other, o4, d + timedelta(days=50), "60.00", occurred_at=at - timedelta(hours=3)),
        returned(other, o4, d + timedelta(days=50), "60.00", "60.00", occurred_at=at - timedelta(hours=1)),
    ]


async def test_a_batch_leaves_the_scores_the_events_one_by_one_leave_and_a_replay_is_a_no_op(
    scratch_engine: AsyncEngine,
) -> None:
    async with scratch_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = async_sessionmaker(scratch_engine, expire_on_commit=False)
    url = scratch_engine.url.render_as_string(hide_password=False).replace("+asyncpg", "")
    db = await asyncpg.connect(url)
    try:
        await db.execute(
            "INSERT INTO churn_model_runs (id, status, trigger, active, activate, calibration_end, time_unit, "
            "horizon_months, monthly_discount_rate, currency, bgnbd, gamma_gamma, band_cutoffs, created_at) "
            "VALUES ($1, 'succeeded', 'api', true, true, $2, 'week', 12, 0.01, 'PLN', $3::jsonb, $4::jsonb, $5::jsonb, now())",
            uuid.uuid4(),
            date(TODAY.year - 1, 1, 1),
            json.dumps({"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43}),
            json.dumps({"p": 6.25, "q": 3.74, "gamma": 15.44}),
            json.dumps([20.0, 80.0, 250.0]),
        )
        single, single_other, batched, batched_other = (uuid.uuid4() for _ in range(4))
        await one_by_one(sessions, scenario(single, single_other))
        batch = scenario(batched, batched_other)
        await as_batch(sessions, batch)

        async def state(customer: uuid.UUID) -> tuple:
            score = await db.fetchrow(f"SELECT {SCORE} FROM churn_scores WHERE customer_id = $1", customer)
            row = await db.fetchrow(
                "SELECT registered_at IS NOT NULL AS registered, risk_tier FROM churn_customers WHERE customer_id = $1",
                customer,
            )
            orders = await db.fetch(
                "SELECT placed_on, status, net_amount, fully_returned FROM churn_orders WHERE customer_id = $1 "
                "ORDER BY placed_on",
                customer,
            )
            return (
                dict(score) if score else None,
                dict(row) if row else None,
                [tuple(o) for o in orders],
            )

        assert await state(batched) == await state(single)
        # The other customer's score and orders; its announced tier may differ: one by one,
        # its order was scored (and the tier announced) before the return took the score away.
        other_single, other_batched = await state(single_other), await state(batched_other)
        assert (other_batched[0], other_batched[2]) == (other_single[0], other_single[2])
        score, customer, orders = await state(batched)
        assert score is not None and customer == {"registered": True, "risk_tier": score["risk_tier"]}
        # Purchases on three days (o5, o1, o2); o3 cancelled; o1 kept its newest snapshot.
        assert score["x"] == 2 and [o[1] for o in orders] == ["placed", "delivered", "placed", "cancelled"]
        assert (await state(batched_other))[0] is None  # only a fully returned order: nothing to score

        outbox = "SELECT count(*) FROM outbox_events"
        before = (await state(batched), await state(batched_other), await db.fetchval(outbox))
        await as_batch(sessions, batch)
        await as_batch(sessions, list(reversed(batch)))
        assert (await state(batched), await state(batched_other), await db.fetchval(outbox)) == before
    finally:
        await db.close()
