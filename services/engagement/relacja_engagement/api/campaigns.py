"""``/api/v1/engagement/campaigns``: one-off sends to a segment with a holdout, and their results.

POST /api/v1/engagement/campaigns              create and plan (Idempotency-Key); 422 naming the field
GET  /api/v1/engagement/campaigns[/{id}]
POST /api/v1/engagement/campaigns/{id}/cancel  planned → cancelled (messages not yet sent are suppressed)
GET  /api/v1/engagement/campaigns/{id}/results sent, suppressed by reason, deferred, coupons, uplift
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import campaigns
from ..app.schemas import CampaignIn, CampaignPublic, CampaignResults, CampaignsPublic
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement/campaigns", tags=["engagement campaigns"], dependencies=[RequireJson])


@router.post(
    "",
    status_code=201,
    response_model=CampaignPublic,
    summary="Create a campaign and plan its messages (checks applied, holdout drawn)",
    responses=problem_responses(
        {
            422: "Invalid body: an empty or unknown segment, an unknown template, a holdout outside 0–50 (the field in errors)"
        }
    ),
)
async def create_campaign(body: CampaignIn, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> Any:
    scope = "engagement.campaigns.create"
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            created = await campaigns.create_campaign(session, body)
            return await created_response(
                session,
                scope,
                idempotency_key,
                created.model_dump(mode="json"),
                location=f"/api/v1/engagement/campaigns/{created.id}",
                version=created.version,
            )


@router.get("", response_model=CampaignsPublic, summary="List campaigns, newest first (cursor-paginated)")
async def list_campaigns(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await campaigns.list_campaigns(session, limit=limit, cursor=cursor)


@router.get(
    "/{campaign_id}",
    response_model=CampaignPublic,
    summary="Get a campaign",
    responses=problem_responses({404: "No such campaign"}),
)
async def get_campaign(campaign_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        campaign = await campaigns.get_campaign(session, campaign_id)
    response.headers["ETag"] = etag(campaign.version)
    return campaign


@router.post(
    "/{campaign_id}/cancel",
    response_model=CampaignPublic,
    summary="Cancel a campaign (its messages not sent yet are suppressed)",
    responses=problem_responses({404: "No such campaign"}, {409: ILLEGAL_TRANSITION}, 412),
)
async def cancel_campaign(campaign_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> Any:
    with app_errors():
        async with session.begin():
            row = await campaigns.campaign_row(session, campaign_id, lock=True)
            check_if_match(if_match, row.version, what="campaign")
            updated = await campaigns.cancel_campaign(session, campaign_id)
    return JSONResponse(updated.model_dump(mode="json"), headers={"ETag": etag(updated.version)})


@router.get(
    "/{campaign_id}/results",
    response_model=CampaignResults,
    summary="Campaign results: states, reasons, coupons and the uplift vs the holdout",
    responses=problem_responses({404: "No such campaign"}),
)
async def campaign_results(campaign_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        return await campaigns.campaign_results(session, campaign_id)
