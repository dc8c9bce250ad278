"""The disclosure log: what each partner was given, when, through which channel, under which version.

``record_disclosures`` is the one writer, for both channels: the feed calls it for the
page it serves, the webhook sender for the messages a partner's endpoint accepted. A
record disclosed twice through one channel (a re-read page, a redelivery) is logged once,
at its first time. The log outlives the feed (``disclosure_retention_days``); the
housekeeping purges both by age.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Literal

from sqlalchemy import delete, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import Page, paginate

from ..tables import disclosures, feed_records, partners
from .schemas import DisclosurePublic

__all__ = ["Channel", "list_disclosures", "purge_disclosures", "purge_feed", "record_disclosures"]

Channel = Literal["feed", "webhook"]

_RECORD = """
INSERT INTO sharing_disclosures (feed_position, channel, customer_id, partner_id, agreement_id, agreement_version,
                                 purposes, record_id, event_type, fields)
SELECT f.position, :channel, f.customer_id, f.partner_id, f.agreement_id, f.agreement_version, f.purposes,
       f.record_id, f.event_type, f.fields
  FROM sharing_feed_records f WHERE f.position = ANY(CAST(:positions AS bigint[]))
ON CONFLICT (feed_position, channel) DO NOTHING
"""


async def record_disclosures(session: AsyncSession, positions: Sequence[int], channel: Channel) -> None:
    """Log the feed records at ``positions`` as disclosed through ``channel`` (now, unless logged before)."""
    if positions:
        await session.execute(text(_RECORD), {"positions": list(positions), "channel": channel})


async def list_disclosures(
    session: AsyncSession, customer_id: uuid.UUID, *, limit: int, cursor: str | None
) -> Page[DisclosurePublic]:
    query = select(
        disclosures.c.id,
        disclosures.c.partner_id,
        partners.c.legal_name.label("partner_legal_name"),
        disclosures.c.agreement_id,
        disclosures.c.agreement_version,
        disclosures.c.purposes,
        disclosures.c.record_id,
        disclosures.c.event_type,
        disclosures.c.fields,
        disclosures.c.channel,
        disclosures.c.disclosed_at,
    ).join(partners, partners.c.id == disclosures.c.partner_id)
    return await paginate(
        session,
        query.where(disclosures.c.customer_id == customer_id),
        keys=[disclosures.c.disclosed_at, disclosures.c.id],
        limit=limit,
        cursor=cursor,
        to_item=DisclosurePublic.from_row,
        descending=True,
    )


async def purge_disclosures(session: AsyncSession, retention: timedelta) -> int:
    result = await session.execute(delete(disclosures).where(disclosures.c.disclosed_at < func.now() - retention))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult has rowcount


async def purge_feed(session: AsyncSession, retention: timedelta) -> int:
    result = await session.execute(delete(feed_records).where(feed_records.c.created_at < func.now() - retention))
    return int(result.rowcount)  # type: ignore[attr-defined]  # a DELETE's CursorResult has rowcount
