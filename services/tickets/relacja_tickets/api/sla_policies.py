"""SLA policies: ``/api/v1/sla-policies``.

    POST /api/v1/sla-policies          create (Idempotency-Key); one per team, one default (team null)
    GET  /api/v1/sla-policies          by name
    GET  /api/v1/sla-policies/{id}     with ETag
    PUT  /api/v1/sla-policies/{id}     replace (If-Match)

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
from typing import Annotated, Any, get_args

from fastapi import APIRouter, Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from relacja_contracts.events.tickets import TicketPriority, TicketType
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate
from relacja_servicekit.validation import RequireJson

from ..clocks import rules_of
from ..domain.business_time import MAX_HORIZON_DAYS, add_business_seconds
from ..domain.calendars import calendar_errors, to_calendar
from ..domain.sla import overlapping_rules
from ..tables import sla_policies
from .http import PROBLEM, claim_key, created, etag, invalid, require_if_match
from .schemas import SlaPoliciesPublic, SlaPolicyPublic, SlaPolicyWrite

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sla-policies", tags=["SLA policies"], dependencies=[RequireJson])

_CREATE_SCOPE = "tickets.sla_policies.create"
_PRIORITIES: tuple[str, ...] = get_args(TicketPriority)
_TYPES: tuple[str, ...] = get_args(TicketType)


def _checked(body: SlaPolicyWrite) -> dict[str, Any]:
    """The row values of a valid policy; 422 naming every problem otherwise."""
    hours = {day: [(i.start, i.end) for i in intervals] for day, intervals in body.working_hours.items()}
    errors = [(f"body.{field}", message) for field, message in calendar_errors(body.time_zone, hours)]
    raw_rules = [rule.model_dump() for rule in body.rules]
    for first, second in overlapping_rules(rules_of(raw_rules), _PRIORITIES, _TYPES):
        errors.append((f"body.rules.{second}", f"overlaps rule {first}: both match some (priority, type)"))
    if not errors:
        errors += _unreachable(body, hours)
    if errors:
        overlap = any("overlaps rule" in message for _, message in errors)
        raise invalid(
            422,
            "The SLA policy has overlapping rules." if overlap else "The SLA policy is not valid.",
            errors,
            type_="overlapping-sla-rules" if overlap else "validation-error",
        )
    return {
        "name": body.name,
        "team": body.team,
        "time_zone": body.time_zone,
        "working_hours": {day: [list(i) for i in intervals] for day, intervals in hours.items()},
        "holidays": sorted(set(body.holidays)),
        "rules": raw_rules,
    }


def _unreachable(body: SlaPolicyWrite, hours: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str]]:
    """Rules whose targets the calendar cannot reach within the business-time horizon (e.g.
    a year of minutes with one working minute a week): refused now, not failing on every ticket."""
    calendar = to_calendar(body.time_zone, hours, body.holidays)
    now = datetime.now(UTC)
    errors = []
    for index, rule in enumerate(body.rules):
        try:
            add_business_seconds(calendar, now, 60 * max(rule.first_response_minutes, rule.resolution_minutes))
        except ValueError:
            errors.append((f"body.rules.{index}", f"not reachable within {MAX_HORIZON_DAYS} days of this calendar's working time"))
    return errors


def _team_taken(team: str | None) -> Problem:
    which = f"team {team!r}" if team else "the default (no team)"
    return Problem(409, "Policy exists", f"There is already an SLA policy for {which}; change that one.", type_="duplicate-sla-policy")


def _answer(row: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(SlaPolicyPublic.from_row(row)), status_code=status_code, headers={"ETag": etag(row.version), **(headers or {})}
    )


def _not_found(policy_id: uuid.UUID) -> Problem:
    return Problem(404, "SLA policy not found", f"No SLA policy with id {policy_id}.", type_="not-found")


@router.post("", status_code=201, response_model=SlaPolicyPublic, summary="Create an SLA policy",
             responses={409: {"description": "The team has a policy", **PROBLEM}, 422: {"description": "Invalid or overlapping rules", **PROBLEM}})
async def create_policy(body: SlaPolicyWrite, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    values = _checked(body)
    now = datetime.now(UTC)
    try:
        async with session.begin():
            stored = await claim_key(session, _CREATE_SCOPE, idempotency_key, body)
            if stored:
                return stored.to_response()
            row = (
                await session.execute(
                    insert(sla_policies).values(id=uuid.uuid4(), **values, version=1, created_at=now, updated_at=now).returning(sla_policies)
                )
            ).one()
            return await created(session, _CREATE_SCOPE, idempotency_key, SlaPolicyPublic.from_row(row),
                                 location=f"/api/v1/sla-policies/{row.id}", version=1)
    except IntegrityError:
        raise _team_taken(body.team) from None


@router.get("", response_model=SlaPoliciesPublic, summary="SLA policies by name")
async def list_policies(session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None) -> SlaPoliciesPublic:
    c = sla_policies.c
    return await paginate(session, select(sla_policies), keys=[c.name, c.id], limit=limit, cursor=cursor, sort="name",
                          to_item=SlaPolicyPublic.from_row)


@router.get("/{policy_id}", response_model=SlaPolicyPublic, summary="One SLA policy", responses={404: PROBLEM})
async def get_policy(policy_id: uuid.UUID, session: SessionDep) -> JSONResponse:
    row = (await session.execute(select(sla_policies).where(sla_policies.c.id == policy_id))).first()
    if row is None:
        raise _not_found(policy_id)
    return _answer(row)


@router.put("/{policy_id}", response_model=SlaPolicyPublic, summary="Replace an SLA policy (If-Match)",
            responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM})
async def replace_policy(
    policy_id: uuid.UUID,
    body: SlaPolicyWrite,
    session: SessionDep,
    if_match: Annotated[str | None, Header(alias="If-Match")] = None,
) -> JSONResponse:
    values = _checked(body)
    try:
        async with session.begin():
            row = (await session.execute(select(sla_policies).where(sla_policies.c.id == policy_id).with_for_update())).first()
            if row is None:
                raise _not_found(policy_id)
            require_if_match(if_match, row.version, "SLA policy")
            row = (
                await session.execute(
                    update(sla_policies)
                    .where(sla_policies.c.id == policy_id)
                    .values(**values, version=row.version + 1, updated_at=datetime.now(UTC))
                    .returning(sla_policies)
                )
            ).one()
            return _answer(row)
    except IntegrityError:
        raise _team_taken(body.team) from None
