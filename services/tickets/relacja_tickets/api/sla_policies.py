"""SLA policies: ``/api/v1/sla-policies``.

    POST /api/v1/sla-policies          create (Idempotency-Key); one per team, one default (team null)
    GET  /api/v1/sla-policies          by name
    GET  /api/v1/sla-policies/{id}     with ETag
    PUT  /api/v1/sla-policies/{id}     replace (If-Match required)

A policy is a working-hours calendar (IANA time zone, hours per weekday, holidays) and
rules giving first-response and resolution targets, in business minutes, by priority and
type. Rules must not overlap: two rules matching the same (priority, type) are a 422
``overlapping-sla-rules`` naming both. A (priority, type) no rule matches gets no SLA.

A change applies to tickets opened afterwards and to clocks recomputed afterwards
(resume, priority change); due times already computed stand. Policies are not deleted:
tickets keep pointing at the policy they were opened under.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import sla_policies as use_cases
from ..app.sla_policies import DuplicatePolicy, InvalidPolicy, PolicyDefinition
from .problems import duplicate_policy, invalid_policy
from .schemas import SlaPoliciesPublic, SlaPolicyPublic, SlaPolicyWrite

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sla-policies", tags=["SLA policies"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.sla_policies.create"
_CONFLICT = {409: "The team (or the default, team null) has a policy already (duplicate-sla-policy)"}
_INVALID = {
    422: "The body fails validation; or the calendar is not valid (unknown time zone, overlapping or reversed intervals, "
    "no working time), or rules overlap (overlapping-sla-rules) or cannot be reached within ten years of working time"
}


def _checked(body: SlaPolicyWrite) -> dict[str, Any]:
    definition = PolicyDefinition(
        name=body.name,
        team=body.team,
        time_zone=body.time_zone,
        working_hours=body.working_hours.as_pairs(),
        holidays=body.holidays,
        rules=[rule.model_dump() for rule in body.rules],
    )
    try:
        return use_cases.check_policy(definition, datetime.now(UTC))
    except InvalidPolicy as error:
        raise invalid_policy(error) from None


def _answer(row: Any) -> JSONResponse:
    return JSONResponse(jsonable_encoder(SlaPolicyPublic.from_row(row)), headers={"ETag": etag(row.version)})


@router.post(
    "",
    status_code=201,
    response_model=SlaPolicyPublic,
    summary="Create an SLA policy",
    responses=problem_responses(_CONFLICT, _INVALID),
)
async def create_policy(
    body: SlaPolicyWrite, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    values = _checked(body)
    now = datetime.now(UTC)
    async with session.begin():
        if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
            return stored.to_response()
        try:
            row = await use_cases.create_policy(session, values, now)
        except DuplicatePolicy as error:
            raise duplicate_policy(error) from None
        return await created_response(
            session,
            _CREATE_SCOPE,
            idempotency_key,
            SlaPolicyPublic.from_row(row),
            location=f"/api/v1/sla-policies/{row.id}",
            version=row.version,
        )


@router.get("", response_model=SlaPoliciesPublic, summary="SLA policies by name")
async def list_policies(
    session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> SlaPoliciesPublic:
    page = await use_cases.list_policies(session, limit=limit, cursor=cursor)
    return SlaPoliciesPublic(items=[SlaPolicyPublic.from_row(row) for row in page.items], next_cursor=page.next_cursor)


@router.get("/{policy_id}", response_model=SlaPolicyPublic, summary="One SLA policy")
async def get_policy(policy_id: uuid.UUID, session: SessionDep) -> JSONResponse:
    return _answer(await use_cases.get_policy(session, policy_id))


@router.put(
    "/{policy_id}",
    response_model=SlaPolicyPublic,
    summary="Replace an SLA policy (If-Match)",
    responses=problem_responses(_CONFLICT, _INVALID),
)
async def replace_policy(
    policy_id: uuid.UUID, body: SlaPolicyWrite, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    values = _checked(body)
    async with session.begin():
        try:
            row = await use_cases.replace_policy(session, policy_id, values, if_match=if_match, now=datetime.now(UTC))
        except DuplicatePolicy as error:
            raise duplicate_policy(error) from None
        return _answer(row)
