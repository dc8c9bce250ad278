"""``GET /api/v1/customers/{id}/timeline``: interactions and the customer's events, newest
first (HTTP; the merge of both sources and its keyset are in ``app/timeline.py``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam

from ..app import timeline as timelines
from ..app.timeline import TimelinePage

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers", tags=["contact history"])


@router.get(
    "/{customer_id}/timeline",
    response_model=TimelinePage,
    summary="Interactions and the customer's events, newest first",
    responses=problem_responses({404: "No such customer"}),
)
async def timeline(
    customer_id: uuid.UUID, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> TimelinePage:
    return await timelines.timeline(session, customer_id, limit=limit, cursor=cursor)
