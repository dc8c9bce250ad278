"""Activities: ``/api/v1/sales/activities``.

POST  /api/v1/sales/activities                  create (Idempotency-Key)
GET   /api/v1/sales/activities                  visible ones, newest first, with filters
GET   /api/v1/sales/activities/overdue          open and past due, soonest first
GET   /api/v1/sales/activities/{id}             with ETag
PATCH /api/v1/sales/activities/{id}             change (If-Match); a new remind_at re-arms the reminder
POST  /api/v1/sales/activities/{id}/complete    done (a call or meeting is logged in the timeline)
POST  /api/v1/sales/activities/{id}/cancel
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from relacja_contracts.events.sales import ActivityKind
from relacja_servicekit import SessionDep
from relacja_servicekit.customer_directory import CustomerDirectoryDep
from relacja_servicekit.etags import IfMatchHeader, RequiredIfMatchHeader
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import activities as use_cases
from ..app.activities import ActivityFilters
from ..domain.activities import ACTIONS
from .caller import CallerDep
from .schemas import ActivitiesPublic, ActivityCreate, ActivityPublic, ActivityUpdate
from .views import activity_public, answer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/sales/activities", tags=["activities"], dependencies=[RequireJson])

IdentQuery = Annotated[str | None, Query(min_length=1, max_length=200)]
_CONFLICT = "The activity is done or cancelled (illegal-transition: `current_status` and `allowed_actions`)"


@router.post(
    "",
    status_code=201,
    response_model=ActivityPublic,
    summary="Create an activity (call, meeting, to-do)",
    responses=problem_responses(
        {
            422: "Invalid body; no opportunity or customer; unknown opportunity; a reminder after the due time where "
            "the pipeline forbids it; unknown, erased or merged customer"
        },
        {503: "The customers service could not be asked about a customer not projected yet (Retry-After)"},
    ),
)
async def create_activity(
    body: ActivityCreate,
    session: SessionDep,
    directory: CustomerDirectoryDep,
    caller: CallerDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> JSONResponse:
    now = datetime.now(UTC)
    scope = f"sales.activities.create:{caller.id}"
    async with session.begin():
        if stored := await claim_request(session, scope, idempotency_key, body):
            return stored.to_response()
        row = await use_cases.create_activity(session, directory, caller, body.model_dump(exclude_unset=True), now)
        return await created_response(
            session,
            scope,
            idempotency_key,
            activity_public(row),
            location=f"/api/v1/sales/activities/{row.id}",
            version=row.version,
        )


@router.get("", response_model=ActivitiesPublic, summary="Activities the caller may see, newest first")
async def list_activities(
    session: SessionDep,
    caller: CallerDep,
    assignee_id: IdentQuery = None,
    status: Annotated[Literal["open", "done", "cancelled"] | None, Query()] = None,
    kind: Annotated[ActivityKind | None, Query()] = None,
    opportunity_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ActivitiesPublic:
    filters = ActivityFilters(assignee_id, status, kind, opportunity_id, customer_id)
    page = await use_cases.list_activities(session, caller, filters, limit=limit, cursor=cursor)
    return ActivitiesPublic(items=[activity_public(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/overdue",
    response_model=ActivitiesPublic,
    summary="Overdue activities (open, past due), soonest first",
    description="The caller's visible ones; `assignee_id` narrows to one assignee.",
)
async def overdue(
    session: SessionDep,
    caller: CallerDep,
    assignee_id: IdentQuery = None,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
) -> ActivitiesPublic:
    page = await use_cases.overdue(
        session, caller, datetime.now(UTC), assignee_id=assignee_id, limit=limit, cursor=cursor
    )
    return ActivitiesPublic(items=[activity_public(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/{activity_id}", response_model=ActivityPublic, summary="One activity")
async def get_activity(activity_id: uuid.UUID, session: SessionDep, caller: CallerDep) -> JSONResponse:
    row = await use_cases.get_activity(session, caller, activity_id)
    return answer(activity_public(row), row.version)


@router.patch(
    "/{activity_id}",
    response_model=ActivityPublic,
    summary="Change an open activity (If-Match)",
    responses=problem_responses({409: _CONFLICT}, {422: "A reminder after the due time where the pipeline forbids it"}),
)
async def update_activity(
    activity_id: uuid.UUID,
    body: ActivityUpdate,
    session: SessionDep,
    caller: CallerDep,
    if_match: RequiredIfMatchHeader,
) -> JSONResponse:
    now = datetime.now(UTC)
    async with session.begin():
        row = await use_cases.update_activity(
            session, caller, activity_id, body.model_dump(exclude_unset=True), if_match=if_match, now=now
        )
        return answer(activity_public(row), row.version)


def _action_route(action: str) -> None:
    async def act(
        activity_id: uuid.UUID, session: SessionDep, caller: CallerDep, if_match: IfMatchHeader = None
    ) -> JSONResponse:
        now = datetime.now(UTC)
        async with session.begin():
            row = await use_cases.act(session, caller, activity_id, action, if_match=if_match, now=now)
            return answer(activity_public(row), row.version)

    act.__name__ = f"{action}_activity"
    router.add_api_route(
        f"/{{activity_id}}/{action}",
        act,
        methods=["POST"],
        response_model=ActivityPublic,
        summary="Complete (a call or meeting is logged in the customer's timeline)"
        if action == "complete"
        else "Cancel",
        description="If-Match is optional: when sent it must match the current ETag (412 otherwise).",
        responses=problem_responses({409: _CONFLICT}),
    )


for _action in ACTIONS:
    _action_route(_action)
