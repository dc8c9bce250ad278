"""Partner API keys (staff) and their introspection (the gateway).

POST /api/v1/sharing/partners/{id}/keys                 issue a key: the answer shows it once (Idempotency-Key)
GET  /api/v1/sharing/partners/{id}/keys                 the partner's keys (never their secrets)
POST /api/v1/sharing/partners/{id}/keys/{key_id}/revoke revoked from the next request on
POST /internal/v1/partner-credentials/introspect        the gateway's question: whose key is this?
                                                        (not in the public OpenAPI; never routed by the gateway)
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, remember
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.validation import RequireJson

from ..app import keys, partners
from ..app.errors import InvalidKey
from ..app.schemas import Introspection, IntrospectRequest, KeyCreate, KeyCreated, KeyPublic, KeysPublic
from .problems import app_errors

__all__ = ["internal_router", "router"]

router = APIRouter(
    prefix="/api/v1/sharing/partners/{partner_id}/keys", tags=["sharing: partners"], dependencies=[RequireJson]
)
internal_router = APIRouter(prefix="/internal/v1/partner-credentials", dependencies=[RequireJson])

_CREATE_SCOPE = "sharing.keys.create"


@router.post(
    "",
    status_code=201,
    response_model=KeyCreated,
    summary="Issue an API key for a partner (shown once in this answer)",
    responses=problem_responses({404: "No such partner"}),
)
async def issue_key(
    partner_id: uuid.UUID, body: KeyCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, f"{_CREATE_SCOPE}:{partner_id}", idempotency_key, body):
                return stored.to_response()
            await partners.get_partner(session, partner_id)
            key, text = await keys.issue_key(session, partner_id, body)
            headers = {"Location": f"/api/v1/sharing/partners/{partner_id}/keys/{key.id}"}
            public = KeyCreated(**key.model_dump(), api_key=None).model_dump(mode="json")
            if idempotency_key is not None:
                # A replay answers without the key: the service keeps only its hash.
                await remember(
                    session,
                    f"{_CREATE_SCOPE}:{partner_id}",
                    idempotency_key,
                    status_code=201,
                    body=public,
                    headers=headers,
                )
    return JSONResponse(public | {"api_key": text}, status_code=201, headers=headers)


@router.get(
    "",
    response_model=KeysPublic,
    summary="List a partner's API keys (without secrets)",
    responses=problem_responses({404: "No such partner"}),
)
async def list_keys(partner_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        await partners.get_partner(session, partner_id)
        return KeysPublic(items=await keys.list_keys(session, partner_id))


@router.post(
    "/{key_id}/revoke",
    response_model=KeyPublic,
    summary="Revoke an API key: refused from the next request on",
    responses=problem_responses({404: "No such partner or key"}),
)
async def revoke_key(partner_id: uuid.UUID, key_id: uuid.UUID, session: SessionDep) -> Any:
    with app_errors():
        async with session.begin():
            return await keys.revoke_key(session, partner_id, key_id)


@internal_router.post("/introspect", response_model=Introspection, include_in_schema=False)
async def introspect(body: IntrospectRequest, session: SessionDep, request: Request) -> Any:
    resolution = timedelta(seconds=request.app.state.settings.key_last_used_resolution_seconds)
    try:
        async with session.begin():
            return await keys.introspect(session, body.api_key, resolution=resolution)
    except InvalidKey:
        raise Problem(
            401,
            "Invalid partner key",
            "The API key is malformed, unknown or revoked.",
            type_="invalid-credentials",
        ) from None
