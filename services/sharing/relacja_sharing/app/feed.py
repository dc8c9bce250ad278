"""The pull feed: an agreement's records after a cursor, and a partner's erasure notices.

The cursor is opaque to partners (``relacja_servicekit.pagination.encode_cursor`` of the
last position, bound to the agreement — or to the partner's notices — so a cursor of one
feed is refused by another). Positions only grow and become visible in order
(``fanout.lock_feed``), so a page read twice is the same page, and a cursor stays valid
for as long as records are kept (``feed_retention_days``, at least 30). Every record served
is logged as disclosed through the feed. Pages are answered as JSON text (``FeedPage``'s
shape) built around the stored records, which are never decoded on the way.

A partner reads an agreement's feed only while both are active; a terminated agreement's
feed is gone (410). Erasure notices must still reach a partner after its agreement ended
(Art. 19), so the partner's notices — over all its agreements — have their own feed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, cast, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import decode_cursor, encode_cursor

from ..tables import feed_records
from .disclosures import record_disclosures
from .errors import FeedGone, PartnerUnavailable

__all__ = ["FEED_MAX_LIMIT", "feed_page", "notices_page"]

FEED_MAX_LIMIT = 1000


async def feed_page(session: AsyncSession, agreement: Row[Any], *, after: str | None, limit: int) -> str:
    """The page as JSON text (a ``FeedPage``)."""
    if agreement.status == "terminated":
        raise FeedGone(agreement.id)
    if agreement.status != "active":
        raise PartnerUnavailable("agreement", agreement.status)
    # Ordered like the (agreement_id, position) index, so the planner can serve the page as one range
    # scan of it; when agreements interleave evenly it may walk the primary key instead (bounded by
    # the LIMIT either way: docs/benchmarks.md, section 10).
    where = feed_records.c.agreement_id == agreement.id
    order = (feed_records.c.agreement_id, feed_records.c.position)
    return await _page(session, where, order, sort=f"feed:{agreement.id}", after=after, limit=limit)


async def notices_page(session: AsyncSession, partner_id: uuid.UUID, *, after: str | None, limit: int) -> str:
    """The partner's erasure notices as JSON text (a ``FeedPage``)."""
    where = and_(feed_records.c.partner_id == partner_id, feed_records.c.kind == "erasure")
    order = (feed_records.c.partner_id, feed_records.c.position)
    return await _page(session, where, order, sort=f"notices:{partner_id}", after=after, limit=limit)


async def _page(
    session: AsyncSession,
    where: ColumnElement[bool],
    order: tuple[ColumnElement[Any], ...],
    *,
    sort: str,
    after: str | None,
    limit: int,
) -> str:
    start = int(decode_cursor(after, sort=sort, arity=1)[0]) if after else 0
    # The records stay JSON text from PostgreSQL to the client: a 500-record page is
    # ~250 KB, and decoding and re-encoding it would cost more than the query.
    query = (
        select(feed_records.c.position, cast(feed_records.c.cloud_event, Text).label("record"))
        .where(where, feed_records.c.position > start)
        .order_by(*order)
        .limit(limit + 1)
    )
    rows = (await session.execute(query)).all()
    page = rows[:limit]
    positions = [row.position for row in page]
    await record_disclosures(session, positions, "feed")
    last = positions[-1] if positions else start
    cursor = json.dumps(encode_cursor([last], sort))
    more = "true" if len(rows) > limit else "false"
    return f'{{"items":[{",".join(row.record for row in page)}],"next_cursor":{cursor},"has_more":{more}}}'
