"""The customer's timeline: the contact history and the customer's own events, merged,
newest first (``timeline(session, id, limit, cursor)`` → ``TimelinePage``).

Two sources, one keyset. Each item's sort key is ``(occurred_at, source, id)``:
``occurred_at`` is when the interaction happened or when the event was written,
``source`` is ``"interaction"`` or ``"event"`` and ``id`` the interaction id or the event
id (both UUIDs). The page is a ``UNION ALL`` of both sources ordered by the key descending
— at the same instant an interaction comes before an event — and the cursor holds the key
of the last item, so paging stays stable while either source grows. Each branch is
limited on its own first, so a long history is not read whole.

``InteractionLoggedV1`` events are left out: the interaction itself is the entry.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Select, literal, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import InteractionLoggedV1
from relacja_servicekit import Problem
from relacja_servicekit.pagination import decode_cursor, encode_cursor

from ..tables import customer_event_log, interactions
from .interactions import InteractionPublic, interactions_by_id
from .records import load_customer

__all__ = ["EventEntry", "InteractionEntry", "TimelineEntry", "TimelinePage", "timeline"]

_SORT = "timeline"
_SOURCES = ("interaction", "event")


class InteractionEntry(BaseModel):
    kind: Literal["interaction"] = "interaction"
    id: uuid.UUID = Field(description="The interaction id")
    occurred_at: datetime
    interaction: InteractionPublic


class EventEntry(BaseModel):
    kind: Literal["event"] = "event"
    id: uuid.UUID = Field(description="The event id (CloudEvents id)")
    occurred_at: datetime = Field(description="When the event was written")
    event_type: str = Field(examples=["relacja.customers.consent.granted.v1"])
    payload: dict[str, Any]


TimelineEntry = Annotated[InteractionEntry | EventEntry, Field(discriminator="kind")]


class TimelinePage(BaseModel):
    items: list[TimelineEntry]
    next_cursor: str | None


def _after(
    occurred_at: ColumnElement[datetime], source: str, id_: ColumnElement[uuid.UUID], cursor: list[Any]
) -> ColumnElement[bool]:
    """``(occurred_at, source, id) < cursor`` for a branch whose ``source`` is a constant."""
    at, cursor_source, cursor_id = cursor
    if source < cursor_source:
        return occurred_at <= at
    if source > cursor_source:
        return occurred_at < at
    return tuple_(occurred_at, id_) < tuple_(at, cursor_id)


def _branches(customer_id: uuid.UUID, cursor: list[Any] | None, limit: int) -> Select[Any]:
    i, e = interactions.c, customer_event_log.c
    from_interactions = select(
        i.occurred_at.label("occurred_at"), literal("interaction").label("source"), i.id.label("id")
    ).where(i.customer_id == customer_id)
    from_events = select(
        e.occurred_at.label("occurred_at"), literal("event").label("source"), e.event_id.label("id")
    ).where(e.customer_id == customer_id, e.event_type != InteractionLoggedV1.event_type)
    if cursor is not None:
        from_interactions = from_interactions.where(_after(i.occurred_at, "interaction", i.id, cursor))
        from_events = from_events.where(_after(e.occurred_at, "event", e.event_id, cursor))
    from_interactions = from_interactions.order_by(i.occurred_at.desc(), i.id.desc()).limit(limit)
    from_events = from_events.order_by(e.occurred_at.desc(), e.event_id.desc()).limit(limit)
    merged = union_all(from_interactions, from_events).subquery("timeline")
    return select(merged).order_by(merged.c.occurred_at.desc(), merged.c.source.desc(), merged.c.id.desc()).limit(limit)


async def _events_by_id(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not ids:
        return {}
    rows = await session.execute(select(customer_event_log).where(customer_event_log.c.event_id.in_(ids)))
    return {row.event_id: row for row in rows}


async def timeline(session: AsyncSession, customer_id: uuid.UUID, *, limit: int, cursor: str | None) -> TimelinePage:
    """One page of the timeline, newest first (404 when there is no such customer, 400 for a bad cursor)."""
    await load_customer(session, customer_id)
    after = None
    if cursor:
        after = decode_cursor(cursor, sort=_SORT, arity=3)
        if not isinstance(after[0], datetime) or after[1] not in _SOURCES or not isinstance(after[2], uuid.UUID):
            raise Problem(400, "Invalid cursor", "The cursor is malformed.", type_="invalid-cursor")
    keys = (await session.execute(_branches(customer_id, after, limit + 1))).all()
    next_cursor = None
    if len(keys) > limit:
        keys = keys[:limit]
        next_cursor = encode_cursor([keys[-1].occurred_at, keys[-1].source, keys[-1].id], _SORT)
    found_interactions = await interactions_by_id(session, [k.id for k in keys if k.source == "interaction"])
    found_events = await _events_by_id(session, [k.id for k in keys if k.source == "event"])
    items: list[InteractionEntry | EventEntry] = []
    for key in keys:
        if key.source == "interaction":
            items.append(
                InteractionEntry(id=key.id, occurred_at=key.occurred_at, interaction=found_interactions[key.id])
            )
        else:
            event = found_events[key.id]
            items.append(
                EventEntry(id=key.id, occurred_at=key.occurred_at, event_type=event.event_type, payload=event.payload)
            )
    return TimelinePage(items=items, next_cursor=next_cursor)
