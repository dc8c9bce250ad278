"""``/api/v1/loyalty/{offers,rewards,coupons}``: the offers catalogue, rewards and coupons.

POST /api/v1/loyalty/offers                    create (Idempotency-Key); 422 naming the field
GET  /api/v1/loyalty/offers[/{id}]
POST /api/v1/loyalty/offers/{id}/coupons       issue 1–1,000 codes, public or personal
                                               (Idempotency-Key) — also for other services
POST /api/v1/loyalty/rewards                   create (Idempotency-Key)
GET  /api/v1/loyalty/rewards[/{id}]            ?programme_id=
GET  /api/v1/loyalty/coupons                   ?customer_id=&offer_id=&status=, newest first
GET  /api/v1/loyalty/coupons/{id or code}
POST /api/v1/loyalty/coupons/{id or code}/revoke   active → revoked
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import catalogue
from ..app.schemas import (
    CouponPublic,
    CouponsIssue,
    CouponsPublic,
    OfferCreate,
    OfferPublic,
    OffersPublic,
    RewardCreate,
    RewardPublic,
    RewardsPublic,
)
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/loyalty", tags=["loyalty"], dependencies=[RequireJson])

CouponRef = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$", description="Coupon id or code")
]


async def _create(
    session: SessionDep, scope: str, key: str | None, body: BaseModel, make: Any, location: str
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, key, body):
                return stored.to_response()
            created = await make()
            return await created_response(
                session,
                scope,
                key,
                created.model_dump(mode="json"),
                location=location.format(id=getattr(created, "id", "")),
                version=getattr(created, "version", None),
            )


@router.post(
    "/offers",
    status_code=201,
    response_model=OfferPublic,
    summary="Create an offer",
    responses=problem_responses(
        {422: "Invalid body: a percentage over 100, a validity ending before it starts, ... (the field in errors)"}
    ),
)
async def create_offer(body: OfferCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> Any:
    return await _create(
        session,
        "loyalty.offers.create",
        idempotency_key,
        body,
        lambda: catalogue.create_offer(session, body),
        "/api/v1/loyalty/offers/{id}",
    )


@router.get("/offers", response_model=OffersPublic, summary="List offers (cursor-paginated)")
async def list_offers(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> Any:
    return await catalogue.list_offers(session, limit=limit, cursor=cursor)


@router.get(
    "/offers/{offer_id}",
    response_model=OfferPublic,
    summary="Get an offer",
    responses=problem_responses({404: "No such offer"}),
)
async def get_offer(offer_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        offer = await catalogue.get_offer(session, offer_id)
    response.headers["ETag"] = etag(offer.version)
    return offer


@router.post(
    "/offers/{offer_id}/coupons",
    status_code=201,
    response_model=CouponsPublic,
    summary="Issue coupons of an offer (public or personal; 1–1,000 codes)",
    responses=problem_responses(
        {404: "No such offer"},
        {422: "Invalid body; a customer outside the offer's audience (the field in errors)"},
    ),
)
async def issue_coupons(
    offer_id: uuid.UUID, body: CouponsIssue, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> Any:
    scope = f"loyalty.coupons.issue.{offer_id}"
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            issued = await catalogue.issue_coupons(session, offer_id, body)
            return await created_response(
                session,
                scope,
                idempotency_key,
                issued.model_dump(mode="json"),
                location=f"/api/v1/loyalty/coupons?offer_id={offer_id}",
            )


@router.post(
    "/rewards",
    status_code=201,
    response_model=RewardPublic,
    summary="Create a reward",
    responses=problem_responses({422: "Invalid body; no such programme, offer or tier (the field in errors)"}),
)
async def create_reward(body: RewardCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> Any:
    return await _create(
        session,
        "loyalty.rewards.create",
        idempotency_key,
        body,
        lambda: catalogue.create_reward(session, body),
        "/api/v1/loyalty/rewards/{id}",
    )


@router.get("/rewards", response_model=RewardsPublic, summary="List rewards (cursor-paginated)")
async def list_rewards(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    programme_id: uuid.UUID | None = None,
) -> Any:
    return await catalogue.list_rewards(session, programme_id, limit=limit, cursor=cursor)


@router.get(
    "/rewards/{reward_id}",
    response_model=RewardPublic,
    summary="Get a reward",
    responses=problem_responses({404: "No such reward"}),
)
async def get_reward(reward_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        reward = await catalogue.get_reward(session, reward_id)
    response.headers["ETag"] = etag(reward.version)
    return reward


@router.get("/coupons", response_model=CouponsPublic, summary="List coupons, newest first (cursor-paginated)")
async def list_coupons(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    customer_id: uuid.UUID | None = None,
    offer_id: uuid.UUID | None = None,
    status: Literal["active", "revoked"] | None = None,
) -> Any:
    query = catalogue.CouponQuery(customer_id=customer_id, offer_id=offer_id, status=status)
    return await catalogue.list_coupons(session, query, limit=limit, cursor=cursor)


@router.get(
    "/coupons/{coupon}",
    response_model=CouponPublic,
    summary="Get a coupon by id or code",
    responses=problem_responses({404: "No such coupon"}),
)
async def get_coupon(coupon: CouponRef, session: SessionDep, response: Response) -> Any:
    with app_errors():
        found = await catalogue.get_coupon(session, coupon)
    response.headers["ETag"] = etag(found.version)
    return found


@router.post(
    "/coupons/{coupon}/revoke",
    response_model=CouponPublic,
    summary="Revoke a coupon: active → revoked",
    responses=problem_responses({404: "No such coupon"}, {409: ILLEGAL_TRANSITION}),
)
async def revoke_coupon(coupon: CouponRef, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    def check_version(version: int) -> None:
        check_if_match(if_match, version, what="coupon")

    with app_errors():
        async with session.begin():
            revoked = await catalogue.revoke_coupon(session, coupon, check_version)
    return JSONResponse(revoked.model_dump(mode="json"), headers={"ETag": etag(revoked.version)})
