"""Pieces every route module uses: problem responses, ETags and If-Match."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header

from relacja_servicekit import Problem

__all__ = ["PROBLEM", "IfMatchHeader", "etag", "check_if_match", "not_found"]

PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}

IfMatchHeader = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag of the version being changed, e.g. "3"'),
]


def etag(version: int) -> str:
    return f'"{version}"'


def check_if_match(if_match: str | None, version: int, *, required: bool = False) -> None:
    """412 when ``If-Match`` names another version; 428 when it is required and missing."""
    if if_match is None:
        if required:
            raise Problem(
                428, "Precondition required", "Send If-Match with the resource's ETag.", type_="precondition-required",
                errors=[{"field": "header.If-Match", "message": "required"}],
            )
        return
    candidates = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if "*" not in candidates and etag(version) not in candidates:
        raise Problem(
            412, "Precondition failed", f"If-Match {if_match} does not match the current ETag {etag(version)}.",
            type_="precondition-failed", errors=[{"field": "header.If-Match", "message": f"current ETag is {etag(version)}"}],
        )


def not_found(what: str, ident: object) -> Problem:
    return Problem(404, f"{what} not found", f"No {what.lower()} with id {ident}.", type_="not-found")
