"""Cursor pagination: opaque cursors that encode the sort keys of the last item.

Keyset paging is stable under inserts (an offset would skip or repeat rows while a
client syncs). A cursor is base64url JSON ``{"k": [...sort key values...], "s": sort}``;
clients must treat it as opaque. A cursor made for one sort order is rejected for
another, so a client cannot mix them up silently.

    page = await paginate(session, select(customers), keys=[customers.c.created_at, customers.c.id],
                          limit=limit, cursor=cursor, descending=True, to_item=CustomerPublic.from_row)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from .problems import Problem

__all__ = [
    "Page",
    "LimitParam",
    "CursorParam",
    "encode_cursor",
    "decode_cursor",
    "paginate",
    "MAX_LIMIT",
    "DEFAULT_LIMIT",
]

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500

LimitParam = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})")]
CursorParam = Annotated[str | None, Query(description="Opaque cursor from a previous page's next_cursor")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": value.isoformat()}
    if isinstance(value, UUID):
        return {"u": str(value)}
    return value


def _from_jsonable(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "t":
            return datetime.fromisoformat(raw)
        if tag == "u":
            return UUID(raw)
    return value


def encode_cursor(values: Sequence[Any], sort: str = "") -> str:
    raw = json.dumps({"k": [_jsonable(v) for v in values], "s": sort}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, *, sort: str = "", arity: int) -> list[Any]:
    invalid = Problem(
        400, "Invalid cursor", "The cursor is malformed or belongs to another sort order.", type_="invalid-cursor"
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        keys = [_from_jsonable(v) for v in data["k"]]
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        raise invalid from None
    if data.get("s", "") != sort or len(keys) != arity:
        raise invalid
    return keys


async def paginate(
    session: AsyncSession,
    query: Select[Any],
    *,
    keys: Sequence[ColumnElement[Any]],
    limit: int,
    cursor: str | None,
    to_item: Callable[[Any], T],
    descending: bool = False,
    sort: str = "",
) -> Page[T]:
    """One page of ``query`` ordered by ``keys`` (which must be unique together, e.g. end with the id)."""
    if cursor:
        after = decode_cursor(cursor, sort=sort, arity=len(keys))
        row_keys, cursor_keys = tuple_(*keys), tuple_(*after)
        query = query.where(row_keys < cursor_keys if descending else row_keys > cursor_keys)
    order = [k.desc() for k in keys] if descending else list(keys)
    rows = (await session.execute(query.order_by(*order).limit(limit + 1))).all()
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more:
        last = rows[-1]._mapping
        next_cursor = encode_cursor([last[k] for k in keys], sort)
    return Page[Any](items=[to_item(row) for row in rows], next_cursor=next_cursor)
