"""The pull feed: an agreement's records after a cursor, and a partner's erasure notices.

The cursor is opaque to partners (``relacja_servicekit.pagination.encode_cursor`` of the
last position, bound to the agreement — or to the partner's notices — so a cursor of one
feed is refused by another). Positions only grow and become visible in order
(``fanout.lock_feed``), so a page read twice is the same page, and a cursor stays valid
for as long as records are kept (``feed_retention_days``, at least 30). Every record served
is logged as disclosed through the feed.

A partner reads an agreement's feed only while both are active; a terminated agreement's
feed is gone (410). Erasure notices must still reach a partner after its agreement ended
(Art. 19), so the partner's notices — over all its agreements — have their own feed.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import decode_cursor, encode_cursor

from ..tables import feed_records
from .disclosures import record_disclosures
from .errors import FeedGone, PartnerUnavailable
from .schemas import FeedPage

__all__ = ["FEED_MAX_LIMIT", "feed_page", "notices_page"]

FEED_MAX_LIMIT = 1000


async def feed_page(session: AsyncSession, agreement: Row[Any], *, after: str | None, limit: int) -> FeedPage:
    if agreement.status == "terminated":
        raise FeedGone(agreement.id)
    if agreement.status != "active":
        raise PartnerUnavailable("agreement", agreement.status)
    sort = f"feed:{agreement.id}"
    query = select(feed_records.c.position, feed_records.c.cloud_event).where(
        feed_records.c.agreement_id == agreement.id
    )
    return await _page(session, query, sort=sort, after=after, limit=limit)


async def notices_page(session: AsyncSession, partner_id: uuid.UUID, *, after: str | None, limit: int) -> FeedPage:
    query = select(feed_records.c.position, feed_records.c.cloud_event).where(
        feed_records.c.partner_id == partner_id, feed_records.c.kind == "erasure"
    )
    return await _page(session, query, sort=f"notices:{partner_id}", after=after, limit=limit)


async def _page(session: AsyncSession, query: Any, *, sort: str, after: str | None, limit: int) -> FeedPage:
    start = int(decode_cursor(after, sort=sort, arity=1)[0]) if after else 0
    rows = (
        await session.execute(
            query.where(feed_records.c.position > start).order_by(feed_records.c.position).limit(limit + 1)
        )
    ).all()
    page = rows[:limit]
    positions = [row.position for row in page]
    await record_disclosures(session, positions, "feed")
    last = positions[-1] if positions else start
    return FeedPage(
        items=[row.cloud_event for row in page], next_cursor=encode_cursor([last], sort), has_more=len(rows) > limit
    )
