"""Returns and complaints about goods: ``/api/v1/orders/{id}/returns`` (HTTP; the use
cases are in ``app/returns.py``).

    POST /api/v1/orders/{id}/returns                    request (Idempotency-Key): lines and quantities
    GET  /api/v1/orders/{id}/returns                    the order's requests, oldest first
    GET  /api/v1/orders/{id}/returns/{rid}              one request with its ETag
    POST /api/v1/orders/{id}/returns/{rid}/accept       accept: the order's returned and refunded
                                                        amounts, net and margin follow; OrderReturnedV1
    POST /api/v1/orders/{id}/returns/{rid}/reject       reject: nothing changes on the order

Only a delivered order takes returns, and only a request awaiting a decision can be
decided: otherwise 409 ``illegal-transition`` naming the current status and the allowed
actions. A request for more than is left of a line is 422 ``return-exceeds-purchase``.
The decisions are actions: ``If-Match`` optional, checked when sent (a request's ETag is
``"1"`` while it awaits a decision, ``"2"`` once decided).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import returns
from ..app.schemas import DecisionRequest, ReturnCreate, ReturnPublic, ReturnsPublic
from ..domain.states import ReturnDecision
from .problems import ILLEGAL_TRANSITION, app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/orders/{order_id}/returns", tags=["returns"], dependencies=[RequireJson])

_CREATE_SCOPE = "orders.returns.create"
_OVER_RETURN = (
    "More than is left of a line to return (return-exceeds-purchase: `errors` names each line), or an invalid body"
)


@router.post(
    "",
    status_code=201,
    response_model=ReturnPublic,
    summary="Request a return (or complaint) of some lines or quantities of a delivered order",
    responses=problem_responses({404: "No such order"}, {409: ILLEGAL_TRANSITION}, {422: _OVER_RETURN}),
)
async def request_return(
    order_id: uuid.UUID, body: ReturnCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            # The order is part of what is requested: the same key for another order is another body.
            request = {"order_id": str(order_id), **body.model_dump(mode="json")}
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, request):
                return stored.to_response()
            created = await returns.request_return(session, order_id, body)
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                created.model_dump(mode="json"),
                location=f"/api/v1/orders/{order_id}/returns/{created.id}",
                version=created.version,
            )


@router.get(
    "",
    response_model=ReturnsPublic,
    summary="The order's return requests, oldest first",
    responses=problem_responses({404: "No such order"}),
)
async def list_returns(order_id: uuid.UUID, session: SessionDep) -> ReturnsPublic:
    with app_errors():
        return await returns.list_returns(session, order_id)


@router.get(
    "/{return_id}",
    response_model=ReturnPublic,
    summary="A return request",
    responses=problem_responses({404: "No such order or return"}),
)
async def get_return(
    order_id: uuid.UUID, return_id: uuid.UUID, session: SessionDep, response: Response
) -> ReturnPublic:
    with app_errors():
        found = await returns.get_return(session, order_id, return_id)
    response.headers["ETag"] = etag(found.version)
    return found


async def _decide(
    session: SessionDep,
    order_id: uuid.UUID,
    return_id: uuid.UUID,
    decision: ReturnDecision,
    body: DecisionRequest | None,
    if_match: str | None,
) -> JSONResponse:
    def check_version(version: int) -> None:
        check_if_match(if_match, version, what="return request")

    with app_errors():
        async with session.begin():
            decided = await returns.decide_return(
                session, order_id, return_id, decision, check_version, body.note if body else None
            )
    return JSONResponse(decided.model_dump(mode="json"), headers={"ETag": etag(decided.version)})


@router.post(
    "/{return_id}/accept",
    response_model=ReturnPublic,
    summary="Accept a return: refund it",
    responses=problem_responses(
        {404: "No such order or return"},
        {409: ILLEGAL_TRANSITION},
        {422: "Accepting would return more than was bought (return-exceeds-purchase), or an invalid body"},
    ),
)
async def accept_return(
    order_id: uuid.UUID,
    return_id: uuid.UUID,
    session: SessionDep,
    body: DecisionRequest | None = None,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    return await _decide(session, order_id, return_id, "accept", body, if_match)


@router.post(
    "/{return_id}/reject",
    response_model=ReturnPublic,
    summary="Reject a return",
    responses=problem_responses({404: "No such order or return"}, {409: ILLEGAL_TRANSITION}),
)
async def reject_return(
    order_id: uuid.UUID,
    return_id: uuid.UUID,
    session: SessionDep,
    body: DecisionRequest | None = None,
    if_match: IfMatchHeader = None,
) -> JSONResponse:
    return await _decide(session, order_id, return_id, "reject", body, if_match)
