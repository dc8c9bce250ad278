"""Trigger actions that run when a message is about to go out.

HOOK(reviews): the ``request_review`` action. The reviews part of the service provides
``relacja_engagement.app.reviews.create_review_request(session, *, customer_id, order_id,
product_ids, now) -> ReviewRequest`` (``.token``, ``.url``); :func:`review_url` is where the
sender calls it, and the template variable ``review_url`` carries its ``.url``. Until that
module exists, a message whose trigger asks for a review fails with ``review_unavailable``
(never sent with a blank link).
"""

from __future__ import annotations

import importlib
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

__all__ = ["ReviewUnavailable", "review_url"]


class ReviewUnavailable(RuntimeError):
    pass


async def review_url(session: AsyncSession, *, customer_id: uuid.UUID, context: dict[str, Any], now: datetime) -> str:
    try:
        reviews = importlib.import_module(f"{__package__}.reviews")
    except ModuleNotFoundError:
        raise ReviewUnavailable("review requests are not available in this build") from None
    order_id = context.get("order_id")
    request = await reviews.create_review_request(
        session,
        customer_id=customer_id,
        order_id=uuid.UUID(order_id) if order_id else None,
        product_ids=context.get("product_ids", []),
        now=now,
    )
    return str(request.url)
