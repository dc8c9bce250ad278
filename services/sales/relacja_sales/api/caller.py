"""The caller, as the gateway describes it in its identity headers.

    X-Relacja-Principal   the caller's id (the token's ``sub``)
    X-Relacja-Team        the token's ``team`` claim
    X-Relacja-Roles       the token's ``roles`` claim, space separated

The gateway strips these headers from every client request and writes its own, so they
are trusted (docs/architecture.md). A request without ``X-Relacja-Principal`` did not
come through the gateway: it is another part of the suite on the internal network, which
services trust, and it sees everything (the manager's view).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header

from ..domain.access import Caller, role_from_claims

__all__ = ["CallerDep", "SYSTEM_CALLER"]

SYSTEM_CALLER = Caller(id="system", role="manager")


def _caller(
    principal: Annotated[str | None, Header(alias="X-Relacja-Principal", include_in_schema=False)] = None,
    team: Annotated[str | None, Header(alias="X-Relacja-Team", include_in_schema=False)] = None,
    roles: Annotated[str | None, Header(alias="X-Relacja-Roles", include_in_schema=False)] = None,
) -> Caller:
    if not principal:
        return SYSTEM_CALLER
    return Caller(id=principal, role=role_from_claims((roles or "").split()), team=team or None)


CallerDep = Annotated[Caller, Depends(_caller)]
