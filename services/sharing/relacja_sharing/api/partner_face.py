"""``/partner/v1``: what a partner sees — its agreements, feeds, erasure notices and reports.

GET /partner/v1/agreements                         the partner's agreements
GET /partner/v1/agreements/{id}                    one of them
GET /partner/v1/feeds/{agreement_id}/events        the agreement's records after a cursor (?after=&limit=)
GET /partner/v1/notices                            erasure notices over all the partner's agreements, even ended
GET /partner/v1/reports/{agreement_id}/{dimension} counts by segment, rfm or region (small groups suppressed)

The partner comes from the gateway's headers only (``principal.PartnerIdDep``); every
look-up is scoped to it, so another partner's agreement is 404, like a missing one. A
suspended partner is 403 (partner-suspended) on every route, a suspended agreement 403
(agreement-suspended), a terminated agreement's feed and reports 410.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from relacja_servicekit import SessionDep
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam

from ..app import agreements, feed, partners
from ..app.errors import NotFound, PartnerUnavailable
from ..app.feed import FEED_MAX_LIMIT
from ..app.reports import Dimension, report
from ..app.schemas import AgreementPublic, AgreementsPublic, FeedPage, Report
from .principal import UNAUTHENTICATED, PartnerIdDep
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/partner/v1", tags=["partner"])

_FeedLimit = Annotated[
    int, Query(ge=1, le=FEED_MAX_LIMIT, description=f"Records per page (1–{FEED_MAX_LIMIT}, default 100)")
]
_After = Annotated[str | None, Query(max_length=500, description="Opaque cursor: a previous page's next_cursor")]
_PARTNER_PROBLEMS = {401: "No partner credentials", 403: "The partner is suspended (partner-suspended)"}


async def _active_partner(session: SessionDep, partner_id: uuid.UUID) -> None:
    try:
        row = await partners.get_partner(session, partner_id)
    except NotFound:
        raise UNAUTHENTICATED from None  # the gateway vouched for a partner this service does not know
    if row.status != "active":
        raise PartnerUnavailable("partner", row.status)


@router.get(
    "/agreements",
    response_model=AgreementsPublic,
    summary="Your agreements",
    responses=problem_responses(_PARTNER_PROBLEMS),
)
async def list_my_agreements(
    partner_id: PartnerIdDep, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Any:
    with app_errors():
        await _active_partner(session, partner_id)
        return await agreements.list_agreements(session, partner_id=partner_id, status=None, limit=limit, cursor=cursor)


@router.get(
    "/agreements/{agreement_id}",
    response_model=AgreementPublic,
    summary="One of your agreements",
    responses=problem_responses(_PARTNER_PROBLEMS, {404: "No such agreement of yours"}),
)
async def get_my_agreement(agreement_id: uuid.UUID, partner_id: PartnerIdDep, session: SessionDep) -> Any:
    with app_errors():
        await _active_partner(session, partner_id)
        return AgreementPublic.from_row(await agreements.get_agreement(session, agreement_id, partner_id=partner_id))


@router.get(
    "/feeds/{agreement_id}/events",
    response_model=FeedPage,
    summary="Your agreement's records after a cursor (CloudEvents, oldest first)",
    responses=problem_responses(
        {**_PARTNER_PROBLEMS, 403: "The partner or the agreement is suspended, or the agreement is a draft"},
        {404: "No such agreement of yours", 410: "The agreement was terminated (agreement-terminated)"},
    ),
)
async def read_feed(
    agreement_id: uuid.UUID,
    partner_id: PartnerIdDep,
    session: SessionDep,
    after: _After = None,
    limit: _FeedLimit = 100,
) -> Any:
    with app_errors():
        async with session.begin():
            await _active_partner(session, partner_id)
            row = await agreements.get_agreement(session, agreement_id, partner_id=partner_id)
            page = await feed.feed_page(session, row, after=after, limit=limit)
    return Response(page, media_type="application/json")


@router.get(
    "/notices",
    response_model=FeedPage,
    summary="Erasure notices about customers you were given, over all your agreements (also ended ones)",
    responses=problem_responses(_PARTNER_PROBLEMS),
)
async def read_notices(
    partner_id: PartnerIdDep, session: SessionDep, after: _After = None, limit: _FeedLimit = 100
) -> Any:
    with app_errors():
        async with session.begin():
            await _active_partner(session, partner_id)
            page = await feed.notices_page(session, partner_id, after=after, limit=limit)
    return Response(page, media_type="application/json")


@router.get(
    "/reports/{agreement_id}/{dimension}",
    response_model=Report,
    summary="Counts of your agreement's customers by segment, RFM group or region (small groups suppressed)",
    responses=problem_responses(
        {**_PARTNER_PROBLEMS, 403: "The partner or the agreement is suspended, or the agreement is a draft"},
        {404: "No such agreement of yours", 410: "The agreement was terminated (agreement-terminated)"},
    ),
)
async def read_report(
    agreement_id: uuid.UUID, dimension: Dimension, partner_id: PartnerIdDep, session: SessionDep
) -> Any:
    with app_errors():
        await _active_partner(session, partner_id)
        row = await agreements.get_agreement(session, agreement_id, partner_id=partner_id)
        return await report(session, row, dimension)
