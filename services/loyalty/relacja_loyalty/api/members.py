"""``/api/v1/loyalty/members``: enrolment, the balance and ledger, adjustments, redemptions.

POST /api/v1/loyalty/members                     enrol (Idempotency-Key); 409 already-enrolled
GET  /api/v1/loyalty/members                     ?customer_id=&programme_id=&card_number=
GET  /api/v1/loyalty/members/{id}                balance, available, pending, expiring soon,
                                                 debt, tier and progress (ETag)
GET  /api/v1/loyalty/members/{id}/ledger         entries, newest first (cursor-paginated)
POST /api/v1/loyalty/members/{id}/leave          active → left
POST /api/v1/loyalty/members/{id}/rejoin         left → active
POST /api/v1/loyalty/members/{id}/adjustments    ± points with a reason (Idempotency-Key)
POST /api/v1/loyalty/members/{id}/redemptions    points → a reward's coupon (Idempotency-Key);
                                                 409 insufficient-points
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import catalogue, members
from ..app.schemas import (
    AdjustmentCreate,
    Enrolment,
    LedgerEntryPublic,
    LedgerPage,
    MemberPublic,
    MembersPublic,
    RedemptionCreate,
    RedemptionPublic,
)
from .problems import ILLEGAL_TRANSITION, INSUFFICIENT_POINTS, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/loyalty/members", tags=["loyalty"], dependencies=[RequireJson])

PrincipalHeader = Annotated[
    str | None,
    Header(alias="X-Relacja-Principal", include_in_schema=False, description="Set by the gateway: the caller"),
]


@router.post(
    "",
    status_code=201,
    response_model=MemberPublic,
    summary="Enrol a customer in a programme",
    responses=problem_responses(
        {409: "The customer is a member already (already-enrolled: existing_id)"},
        {
            422: "Invalid body; the customer is unknown, erased or merged away; no such programme "
            "(invalid-reference); an Idempotency-Key reused with another body"
        },
        {503: "The customers service could not be asked about a customer not projected yet (Retry-After)"},
    ),
)
async def enrol(
    body: Enrolment, session: SessionDep, directory: CustomerDirectoryDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, "loyalty.members.create", idempotency_key, body):
                return stored.to_response()
            member = await members.enrol(session, body, directory)
            return await created_response(
                session,
                "loyalty.members.create",
                idempotency_key,
                member.model_dump(mode="json"),
                location=f"{router.prefix}/{member.id}",
                version=member.version,
            )


@router.get("", response_model=MembersPublic, summary="List members (cursor-paginated)")
async def list_members(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    customer_id: uuid.UUID | None = None,
    programme_id: uuid.UUID | None = None,
    card_number: Annotated[str | None, Query(pattern=r"^[0-9]{16}$")] = None,
) -> Any:
    query = members.MemberQuery(customer_id=customer_id, programme_id=programme_id, card_number=card_number)
    return await members.list_members(session, query, limit=min(limit, 100), cursor=cursor)


@router.get(
    "/{member_id}",
    response_model=MemberPublic,
    summary="A member: balance, available, pending, expiring soon, debt, tier and progress",
    responses=problem_responses({404: "No such member"}),
)
async def get_member(member_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        member = await members.get_member(session, member_id)
    response.headers["ETag"] = etag(member.version)
    return member


@router.get(
    "/{member_id}/ledger",
    response_model=LedgerPage,
    summary="The member's ledger, newest first (cursor-paginated)",
    responses=problem_responses({404: "No such member"}),
)
async def ledger(
    member_id: uuid.UUID, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Any:
    with app_errors():
        return await members.ledger_page(session, member_id, limit=limit, cursor=cursor)


async def _status(session: SessionDep, member_id: uuid.UUID, action: str, if_match: str | None) -> JSONResponse:
    def check_version(version: int) -> None:
        check_if_match(if_match, version, what="member")

    with app_errors():
        async with session.begin():
            member = await members.set_status(session, member_id, action, check_version)
    return JSONResponse(member.model_dump(mode="json"), headers={"ETag": etag(member.version)})


_ACTION = problem_responses({404: "No such member"}, {409: ILLEGAL_TRANSITION})


@router.post("/{member_id}/leave", response_model=MemberPublic, summary="Leave: active → left", responses=_ACTION)
async def leave(member_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _status(session, member_id, "leave", if_match)


@router.post("/{member_id}/rejoin", response_model=MemberPublic, summary="Rejoin: left → active", responses=_ACTION)
async def rejoin(member_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _status(session, member_id, "rejoin", if_match)


@router.post(
    "/{member_id}/adjustments",
    status_code=201,
    response_model=LedgerEntryPublic,
    summary="Adjust the balance (± points, with a reason)",
    responses=problem_responses(
        {404: "No such member"},
        {409: f"{INSUFFICIENT_POINTS}; or a merged / erased member ({ILLEGAL_TRANSITION})"},
        {422: "Invalid body (zero points, no reason); an Idempotency-Key reused with another body"},
    ),
)
async def adjust(
    member_id: uuid.UUID,
    body: AdjustmentCreate,
    session: SessionDep,
    principal: PrincipalHeader = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    scope = f"loyalty.adjustments.{member_id}"
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            entry, member = await members.adjust(session, member_id, body, principal or "unknown")
            return await created_response(
                session,
                scope,
                idempotency_key,
                entry.model_dump(mode="json"),
                location=f"{router.prefix}/{member_id}/ledger",
                version=member.version,
            )


@router.post(
    "/{member_id}/redemptions",
    status_code=201,
    response_model=RedemptionPublic,
    summary="Redeem points for a reward (a personal single-use coupon)",
    responses=problem_responses(
        {404: "No such member"},
        {
            409: f"{INSUFFICIENT_POINTS}; the reward is for another programme or tier (reward-not-available); "
            f"the member is not active ({ILLEGAL_TRANSITION})"
        },
        {422: "Invalid body; no such reward (invalid-reference); an Idempotency-Key reused with another body"},
    ),
)
async def redeem(
    member_id: uuid.UUID, body: RedemptionCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    scope = f"loyalty.redemptions.{member_id}"
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            redemption = await catalogue.redeem(session, member_id, body)
            return await created_response(
                session,
                scope,
                idempotency_key,
                redemption.model_dump(mode="json"),
                location=f"/api/v1/loyalty/coupons/{redemption.coupon.id}",
            )
