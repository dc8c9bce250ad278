"""Entity tags and ``If-Match``: optimistic concurrency for every resource that has a version.

https://www.rfc-editor.org/rfc/rfc9110#section-13.1.1

A resource's ETag is its version number as a strong tag (``"3"``). ``If-Match`` uses the
strong comparison: a weak tag (``W/"3"``) never matches, ``*`` matches any current
version, and a list (``"2", "3"``) matches when one of its tags does.

    @router.patch("/things/{id}", responses=problem_responses(404, 412, 428))
    async def change(..., if_match: IfMatchHeader = None):
        check_if_match(if_match, row.version, required=True, what="thing")
        ...
        return JSONResponse(body, headers={"ETag": etag(row.version)})

Answers: 428 ``precondition-required`` when the header is required and missing; 412
``precondition-failed`` naming the current ETag (also sent back in ``ETag``) when no tag
matches. An action that is safe to apply to whatever is current (a state change whose
legality the state machine checks anyway) passes ``required=False``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Header

from .problems import Problem

__all__ = ["IfMatchHeader", "RequiredIfMatchHeader", "etag", "check_if_match", "parse_entity_tags"]

_IF_MATCH_DESCRIPTION = 'The ETag of the version being changed, e.g. `"3"` (strong comparison; `*` matches any).'

#: For actions: optional, checked when sent.
IfMatchHeader = Annotated[str | None, Header(alias="If-Match", description=_IF_MATCH_DESCRIPTION)]

#: For edits (PATCH, PUT, DELETE of a versioned resource): required, so the OpenAPI
#: document says so; a request without it is answered 428 precondition-required (the
#: validation handler in problems.py maps the missing header), not a generic 400.
RequiredIfMatchHeader = Annotated[str, Header(alias="If-Match", description=_IF_MATCH_DESCRIPTION)]


def etag(version: int) -> str:
    """The strong ETag of a version."""
    return f'"{version}"'


def parse_entity_tags(header: str) -> list[str]:
    """The tags of an ``If-Match`` value in order, as sent (``W/`` prefixes kept).

    A comma inside a quoted tag is part of the tag (RFC 9110 §8.8.3: ``entity-tag =
    [ weak ] opaque-tag``, ``opaque-tag = DQUOTE *etagc DQUOTE``).
    """
    tags: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            tags.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    tags.append("".join(current).strip())
    return [tag for tag in tags if tag]


def check_if_match(if_match: str | None, version: int, *, required: bool = False, what: str = "resource") -> None:
    """Raise 428 (missing and required) or 412 (no tag matches ``version``) as problems."""
    if if_match is None:
        if required:
            raise Problem(
                428,
                "Precondition required",
                f"Send If-Match with the ETag of the {what} you change (GET it first).",
                type_="precondition-required",
                errors=[{"field": "header.If-Match", "message": "required"}],
            )
        return
    current = etag(version)
    tags = parse_entity_tags(if_match)
    # Strong comparison: a weak tag is never equal to anything (RFC 9110 §8.8.3.2).
    if "*" in tags or current in tags:
        return
    raise Problem(
        412,
        "Precondition failed",
        f"The {what} has changed: its current ETag is {current}, not {if_match}.",
        type_="precondition-failed",
        errors=[{"field": "header.If-Match", "message": f"current ETag is {current}"}],
        headers={"ETag": current},
    )
