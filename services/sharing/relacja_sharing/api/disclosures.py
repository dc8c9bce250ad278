"""``GET /api/v1/customers/{customer_id}/disclosures``: who received this customer's data, what, when, why.

Served by the sharing service at that path (the gateway routes it here, scope
``sharing:read``): GDPR Art. 15(1)(c) names the actual recipients. Newest first,
cursor-paginated; a customer never disclosed has an empty list.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from relacja_servicekit import SessionDep
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam

from ..app.disclosures import list_disclosures
from ..app.schemas import DisclosuresPublic

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/customers/{customer_id}/disclosures", tags=["sharing: disclosures"])


@router.get(
    "",
    response_model=DisclosuresPublic,
    summary="The recipients of a customer's data: partner, agreement version, purposes, fields, channel, time",
)
async def customer_disclosures(
    customer_id: uuid.UUID, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Any:
    return await list_disclosures(session, customer_id, limit=limit, cursor=cursor)
