"""Identifiers partners see, on the real database: the pseudonym SQL equals the Python
HMAC, and a partner's identifier resolves to the customer it was given — after a merge
to the survivor, after erasure to nothing, for another partner never."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from relacja_devstack import Stack
from relacja_sharing.app import projection
from relacja_sharing.app.fanout import fan_out
from relacja_sharing.app.recipients import resolve_identifier
from relacja_sharing.domain.identifiers import PSEUDONYM_SQL, HmacPads, new_pads, pseudonym

ORDER_TYPE = "relacja.orders.order.placed.v1"


@pytest.fixture
async def sessions(stack: Stack) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(stack.database_url("sharing"))
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


async def test_the_sql_pseudonym_is_the_python_one(sessions: async_sessionmaker[AsyncSession]) -> None:
    sql = "SELECT " + PSEUDONYM_SQL.format(opad=":opad", ipad=":ipad", cid="CAST(:cid AS uuid)")
    async with sessions() as session:
        for _ in range(50):
            pads, customer = new_pads(), uuid.uuid4()
            got = (
                await session.execute(text(sql), {"opad": pads.opad, "ipad": pads.ipad, "cid": str(customer)})
            ).scalar_one()
            assert got == pseudonym(pads, customer)


async def _partner_with_agreement(session: AsyncSession) -> tuple[uuid.UUID, bytes, bytes]:
    partner, pads = uuid.uuid4(), new_pads()
    await session.execute(
        text(
            "INSERT INTO sharing_partners (id, legal_name, status, pseudonym_ipad, pseudonym_opad, version) "
            "VALUES (:id, 'Resolve S.A.', 'active', :ipad, :opad, 1)"
        ),
        {"id": partner, "ipad": pads.ipad, "opad": pads.opad},
    )
    await session.execute(
        text(
            "INSERT INTO sharing_agreements (id, partner_id, name, status, version, purposes, direction, legal_basis, "
            "identifier, allowed_fields, valid_from, min_group_size) VALUES (:id, :partner, 'r', 'active', 1, "
            "'[\"x\"]', 'outbound', 'contract', 'pseudonym', CAST(:allowed AS jsonb), now() - interval '1 day', 2)"
        ),
        {"id": uuid.uuid4(), "partner": partner, "allowed": json.dumps({ORDER_TYPE: ["order_number"]})},
    )
    return partner, pads.ipad, pads.opad


async def test_identifiers_resolve_to_what_the_partner_was_given(sessions: async_sessionmaker[AsyncSession]) -> None:
    customer, survivor = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        partner, ipad, opad = await _partner_with_agreement(session)
        other, _, _ = await _partner_with_agreement(session)
        written = await fan_out(
            session,
            event_type=ORDER_TYPE,
            customer_id=customer,
            time=datetime.now(UTC),
            payload=json.dumps({"order_number": "N-1", "total_amount": "1.00"}),
        )
        assert written >= 2
        given = (
            await session.execute(
                text("SELECT identifier FROM sharing_recipients WHERE partner_id = :p AND customer_id = :c"),
                {"p": partner, "c": customer},
            )
        ).scalar_one()
        assert given == pseudonym(HmacPads(ipad, opad), customer)
        assert await resolve_identifier(session, partner, given) == customer
        assert await resolve_identifier(session, other, given) is None  # the other partner has its own pseudonym
        assert await resolve_identifier(session, partner, "not-given") is None

        await projection.merge_customers(session, survivor, customer)
        assert await resolve_identifier(session, partner, given) == survivor
        await projection.erase_customer(session, survivor, datetime.now(UTC))
        assert await resolve_identifier(session, partner, given) is None
        await session.execute(
            text("UPDATE sharing_agreements SET status = 'terminated' WHERE partner_id IN (:a, :b)"),
            {"a": partner, "b": other},
        )
