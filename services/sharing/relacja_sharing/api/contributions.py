"""Inbound contributions (HTTP; the use cases are in ``app/contributions.py``, the rules in
``domain/contributions.py``).

Partner face (the partner from the gateway's headers only; another partner's contribution is 404):

    POST /partner/v1/contributions          an interaction or a lead (Idempotency-Key)
    GET  /partner/v1/contributions          the partner's own, newest first (?agreement_id=&type=)
    GET  /partner/v1/contributions/{id}

Staff face (scope sharing:read):

    GET  /api/v1/sharing/contributions      every partner's, newest first (?partner_id=&agreement_id=&type=&customer_id=)
    GET  /api/v1/sharing/contributions/{id} with the partner and the resolved customer

Idempotency-Key answers are kept per partner (the scope names it): two partners using the
same key never see each other's answer.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import contributions
from ..app.contributions import (
    ContributionCreate,
    ContributionFilter,
    PartnerContribution,
    PartnerContributions,
    StaffContribution,
    StaffContributions,
)
from ..domain.contributions import ContributionType
from .partner_face import active_partner
from .principal import PartnerIdDep
from .problems import app_errors

__all__ = ["partner_router", "staff_router"]

partner_router = APIRouter(prefix="/partner/v1/contributions", tags=["partner"], dependencies=[RequireJson])
staff_router = APIRouter(prefix="/api/v1/sharing/contributions", tags=["sharing: contributions"])

_PARTNER_PROBLEMS = {401: "No partner credentials", 403: "The partner is suspended (partner-suspended)"}


def _scope(partner_id: uuid.UUID) -> str:
    return f"sharing.contributions.create:{partner_id}"


@partner_router.post(
    "",
    status_code=201,
    response_model=PartnerContribution,
    summary="Contribute an interaction with a customer you were given, or a lead",
    description=(
        "Under one of your agreements whose direction is `inbound` or `both`, in force. `type` says what it is: "
        "`interaction` names the customer by `customer_ref`, the identifier you were given for it (pseudonym, id or "
        "e-mail, as your agreement says); `lead` registers a prospect, and the answer's `customer_ref` is the "
        "identifier to use for it from now on. The agreement's `allowed_fields` lists the optional fields you may "
        "send for each type. Send `Idempotency-Key` to retry safely."
    ),
    responses=problem_responses(
        {
            **_PARTNER_PROBLEMS,
            403: "The partner is suspended, or the agreement is not active or outside its validity window",
        },
        {404: "agreement_id is not one of your agreements"},
        {422: "Invalid body, a type or field the agreement does not allow, an unknown customer reference"},
    ),
)
async def contribute(
    body: ContributionCreate,
    partner_id: PartnerIdDep,
    session: SessionDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, _scope(partner_id), idempotency_key, body):
                return stored.to_response()
            contribution = await contributions.submit_contribution(session, partner_id, body)
            return await created_response(
                session,
                _scope(partner_id),
                idempotency_key,
                contribution.model_dump(mode="json"),
                location=f"{partner_router.prefix}/{contribution.id}",
            )


@partner_router.get(
    "",
    response_model=PartnerContributions,
    summary="Your contributions, newest first",
    responses=problem_responses(_PARTNER_PROBLEMS),
)
async def list_my_contributions(
    partner_id: PartnerIdDep,
    session: SessionDep,
    agreement_id: uuid.UUID | None = None,
    type: ContributionType | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Any:
    with app_errors():
        await active_partner(session, partner_id)
        where = ContributionFilter(partner_id=partner_id, agreement_id=agreement_id, type=type)
        page = await contributions.list_contributions(session, where, limit=limit, cursor=cursor)
    return PartnerContributions(
        items=[PartnerContribution.model_validate(item.model_dump()) for item in page.items],
        next_cursor=page.next_cursor,
    )


@partner_router.get(
    "/{contribution_id}",
    response_model=PartnerContribution,
    summary="One of your contributions",
    responses=problem_responses(_PARTNER_PROBLEMS, {404: "No such contribution of yours"}),
)
async def get_my_contribution(contribution_id: uuid.UUID, partner_id: PartnerIdDep, session: SessionDep) -> Any:
    with app_errors():
        await active_partner(session, partner_id)
        found = await contributions.get_contribution(session, contribution_id, partner_id=partner_id)
    return PartnerContribution.model_validate(found.model_dump())


@staff_router.get(
    "",
    response_model=StaffContributions,
    summary="Contributions of every partner, newest first",
)
async def list_all_contributions(
    session: SessionDep,
    partner_id: uuid.UUID | None = None,
    agreement_id: uuid.UUID | None = None,
    type: ContributionType | None = None,
    customer_id: uuid.UUID | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> Any:
    where = ContributionFilter(partner_id=partner_id, agreement_id=agreement_id, type=type, customer_id=customer_id)
    return await contributions.list_contributions(session, where, limit=limit, cursor=cursor)


@staff_router.get(
    "/{contribution_id}",
    response_model=StaffContribution,
    summary="One contribution, with its partner and the customer it is about",
    responses=problem_responses({404: "No such contribution"}),
)
async def get_any_contribution(contribution_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        return await contributions.get_contribution(session, contribution_id)
