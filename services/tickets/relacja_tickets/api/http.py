"""HTTP helpers shared by the routes: ETags, If-Match, Idempotency-Key claims, problems."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem
from relacja_servicekit.idempotency import StoredResponse, claim, fingerprint, remember

__all__ = ["etag", "require_if_match", "claim_key", "created", "invalid", "PROBLEM"]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def etag(version: int) -> str:
    return f'"{version}"'


def require_if_match(if_match: str | None, version: int, what: str) -> None:
    """RFC 9110 §13.1.1: 428 without If-Match, 412 (with the current ETag) when stale; ``*`` matches."""
    if if_match is None:
        raise Problem(
            428,
            "Precondition required",
            f"Send If-Match with the ETag of the {what} you changed (GET it first).",
            type_="precondition-required",
            errors=[{"field": "header.If-Match", "message": "required"}],
        )
    tags = [tag.strip() for tag in if_match.split(",") if tag.strip()]
    if "*" in tags or etag(version) in tags:
        return
    raise Problem(
        412,
        "Precondition failed",
        f"The {what} has changed: its current ETag is {etag(version)}, not {if_match}.",
        type_="precondition-failed",
        errors=[{"field": "header.If-Match", "message": "does not match the current ETag"}],
        headers={"ETag": etag(version)},
    )


async def claim_key(session: AsyncSession, scope: str, key: str | None, body: BaseModel | dict[str, Any]) -> StoredResponse | None:
    """Claim the Idempotency-Key (if sent) in the caller's transaction; the stored response on a replay."""
    if key is None:
        return None
    payload = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    return await claim(session, scope=scope, key=key, fingerprint=fingerprint(payload))


async def created(
    session: AsyncSession, scope: str, key: str | None, model: BaseModel, *, location: str, version: int | None = None
) -> JSONResponse:
    """The 201 answer, remembered under the Idempotency-Key (if sent) for replays."""
    body = jsonable_encoder(model)
    headers = {"Location": location}
    if version is not None:
        headers["ETag"] = etag(version)
    if key is not None:
        await remember(session, scope, key, status_code=201, body=body, headers=headers)
    return JSONResponse(body, status_code=201, headers=headers)


def invalid(status: int, detail: str, errors: list[tuple[str, str]], *, type_: str = "validation-error") -> Problem:
    return Problem(
        status,
        "Validation failed" if status == 422 else "Invalid parameter",
        detail,
        type_=type_,
        errors=[{"field": field, "message": message} for field, message in errors],
    )
