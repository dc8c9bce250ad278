"""``/api/v1/engagement/suppressions`` and ``/delivery-reports``: who is never sent to, and why.

GET  /api/v1/engagement/suppressions        ?channel=, newest first
POST /api/v1/engagement/suppressions        a manual entry (Idempotency-Key)
POST /api/v1/engagement/delivery-reports    a bounce or complaint about a sent message (the mail
                                            server's or the provider's report): a hard bounce or a
                                            complaint marks it bounced and suppresses its address
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import suppressions
from ..app.schemas import (
    Channel,
    DeliveryReportIn,
    DeliveryReportPublic,
    SuppressionIn,
    SuppressionPublic,
    SuppressionsPublic,
)
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement", tags=["engagement suppressions"], dependencies=[RequireJson])


@router.get("/suppressions", response_model=SuppressionsPublic, summary="The suppression list (cursor-paginated)")
async def list_suppressions(
    session: SessionDep, channel: Channel | None = None, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Any:
    return await suppressions.list_suppressions(session, channel=channel, limit=limit, cursor=cursor)


@router.post(
    "/suppressions",
    status_code=201,
    response_model=SuppressionPublic,
    summary="Suppress an address by hand",
    responses=problem_responses({422: "Invalid body"}),
)
async def add_suppression(
    body: SuppressionIn, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> Any:
    scope = "engagement.suppressions.create"
    async with session.begin():
        if stored := await claim_request(session, scope, idempotency_key, body):
            return stored.to_response()
        created = await suppressions.add_suppression(session, body)
        return await created_response(session, scope, idempotency_key, created.model_dump(mode="json"))


@router.post(
    "/delivery-reports",
    response_model=DeliveryReportPublic,
    summary="Report a bounce or a complaint about a sent message",
    responses=problem_responses(
        {404: "No sent message with this id"}, {422: "Invalid body; neither message_id nor provider_message_id"}
    ),
)
async def report_delivery(body: DeliveryReportIn, session: SessionDep) -> Any:
    with app_errors():
        async with session.begin():
            return await suppressions.report_delivery(session, body)
