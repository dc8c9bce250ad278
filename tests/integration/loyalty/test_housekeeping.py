"""The worker's pass on the real database: lots past their expiry expire, and the daily tier
evaluation moves the window on — a grace period first, then the downgrade. The pass is
called with a moved clock (``run_housekeeping(sessions, now=...)``)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from relacja_devstack import Stack
from relacja_loyalty.workers import run_housekeeping

from .support import assert_ledger_sums, customer, enrol, member, new_product, order_paid, programme, wait_balance


async def test_expiry_and_the_daily_tier_evaluation(
    stack: Stack,
    api: httpx.AsyncClient,
    orders_api: httpx.AsyncClient,
    customers_api: httpx.AsyncClient,
    db: asyncpg.Connection,
) -> None:
    club = await programme(
        api,
        expiry_policy="after_months",
        expiry_months=1,
        tier_grace_days=30,
        tiers=[{"name": "silver", "threshold": "40", "multiplier": "1"}],
    )
    customer_id = await customer(customers_api)
    joined = await enrol(api, club["id"], customer_id)
    product = await new_product(orders_api, "50.00")
    await order_paid(orders_api, customer_id, product["id"], 1)
    earned = await wait_balance(api, joined["id"], 50)
    assert earned["tier"] == "silver"

    engine = create_async_engine(stack.database_url("loyalty"))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    now = datetime.now(UTC)
    try:
        await run_housekeeping(sessions, now=now + timedelta(days=40))  # the lot's month is over
        expired = await member(api, joined["id"])
        assert expired["balance"] == 0 and expired["tier"] == "silver"  # the order is still in the window
        await assert_ledger_sums(db, joined["id"])
        await run_housekeeping(sessions, now=now + timedelta(days=400))  # the order left the 12-month window
        grace = await member(api, joined["id"])
        assert grace["tier"] == "silver" and grace["tier_downgrade_pending_since"] is not None
        await run_housekeeping(sessions, now=now + timedelta(days=431))
        assert (await member(api, joined["id"]))["tier"] is None
    finally:
        await engine.dispose()
    kinds = await db.fetch(
        "SELECT kind, points FROM loyalty_ledger WHERE member_id = $1 ORDER BY seq", uuid.UUID(joined["id"])
    )
    assert [(k["kind"], k["points"]) for k in kinds] == [("earn", 50), ("expire", -50)]
    changes = [
        json.loads(row["payload"])
        for row in await db.fetch(
            "SELECT payload FROM outbox_events WHERE event_type = 'relacja.loyalty.tier.changed.v1' "
            "AND payload->>'member_id' = $1 ORDER BY id",
            joined["id"],
        )
    ]
    assert [(c["previous_tier"], c["tier"], c["trigger"]) for c in changes] == [
        (None, "silver", "change"),
        ("silver", None, "daily"),
    ]
