"""Who is calling, from the headers the gateway sets (it strips any a client sends).

PartnerIdDep   the partner of a /partner/v1 request: ``X-Relacja-Partner-Id`` with
               ``X-Relacja-Principal-Kind: partner``; anything else is 401 — the partner
               routes take the partner from these headers only, never from the path
ActorDep       the staff member behind a staff request (``X-Relacja-Principal``), for the
               agreement's audit trail; None when called without the gateway
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header

from relacja_servicekit import Problem

__all__ = ["UNAUTHENTICATED", "ActorDep", "PartnerIdDep"]

UNAUTHENTICATED = Problem(
    401,
    "Partner credentials required",
    "This route serves partners, authenticated by the gateway with a partner API key or token.",
    type_="unauthenticated",
    headers={"WWW-Authenticate": 'Bearer realm="relacja-partner"'},
)


def _partner_id(
    kind: Annotated[str | None, Header(alias="X-Relacja-Principal-Kind", include_in_schema=False)] = None,
    partner: Annotated[str | None, Header(alias="X-Relacja-Partner-Id", include_in_schema=False)] = None,
) -> uuid.UUID:
    if kind != "partner" or partner is None:
        raise UNAUTHENTICATED
    try:
        return uuid.UUID(partner)
    except ValueError:
        raise UNAUTHENTICATED from None


def _actor(
    principal: Annotated[str | None, Header(alias="X-Relacja-Principal", include_in_schema=False)] = None,
) -> str | None:
    return principal


PartnerIdDep = Annotated[uuid.UUID, Depends(_partner_id)]
ActorDep = Annotated[str | None, Depends(_actor)]
