"""Trigger actions that run when a message is about to go out.

The ``request_review`` action: :func:`review_url` makes a review link for the order the
triggering event named (``app/reviews.create_review_request``), and the template variable
``review_url`` carries it. An event that names no order (a trigger on something else with
the action switched on) cannot have one: the message fails with ``action_failed`` rather
than going out with a blank link. A retried delivery makes a fresh link (the token of the
first one is not kept anywhere); an unused link simply expires.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .reviews import create_review_request

__all__ = ["ReviewUnavailable", "review_url"]


class ReviewUnavailable(RuntimeError):
    """No review link can be made for this message (the triggering event names no order)."""


async def review_url(session: AsyncSession, *, customer_id: uuid.UUID, context: dict[str, Any], now: datetime) -> str:
    order_id = context.get("order_id")
    if not order_id:
        raise ReviewUnavailable("a review request needs an order: the triggering event names none")
    request = await create_review_request(
        session,
        customer_id=customer_id,
        order_id=uuid.UUID(str(order_id)),
        product_ids=context.get("product_ids") or [],
        now=now,
    )
    return request.url
