"""``/api/v1/engagement/policy``: quiet hours and the frequency caps (one policy for the service).

GET /api/v1/engagement/policy
PUT /api/v1/engagement/policy     replace (If-Match required)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import policy
from ..app.schemas import PolicyIn, PolicyPublic
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement/policy", tags=["engagement policy"], dependencies=[RequireJson])


@router.get("", response_model=PolicyPublic, summary="The quiet hours and the frequency caps")
async def get_policy(session: SessionDep, response: Response) -> Any:
    current = await policy.get_policy(session)
    response.headers["ETag"] = etag(current.version)
    return current


@router.put(
    "",
    response_model=PolicyPublic,
    summary="Replace the quiet hours and the frequency caps",
    responses=problem_responses(412, 428, {422: "Invalid body; two caps for one channel (caps)"}),
)
async def replace_policy(body: PolicyIn, session: SessionDep, if_match: RequiredIfMatchHeader) -> Any:
    with app_errors():
        async with session.begin():
            current = await policy.get_policy(session)
            check_if_match(if_match, current.version, required=True, what="policy")
            updated = await policy.replace_policy(session, body, current.version)
    return JSONResponse(updated.model_dump(mode="json"), headers={"ETag": etag(updated.version)})
