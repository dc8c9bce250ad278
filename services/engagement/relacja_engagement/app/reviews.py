"""Reviews, in the caller's transaction.

    create_review_request   the ``request_review`` trigger action (app/actions.py calls it when
                            the message goes out): a tokenised link for a delivered order
    show_review_request     what a link lets the customer review (None: unknown token)
    submit_review           one rating per product and link; ReviewSubmittedV1 (and
                            ReviewApprovedV1 for a bare rating, which needs no moderation)
    moderate_review         approve / reject with a reason; ReviewApprovedV1 on approval
    get_review, list_reviews, product_reviews, rating_summary   the reads
    record_delivered_order  consumer: OrderDeliveredV1 → eng_delivered_lines (verified purchase)
    erase_reviewer          consumer: CustomerErasedV1 → the reviewer's personal data go
    merge_reviewer          consumer: CustomersMergedV1 → the merged customer's reviews move

Refusals: ``ReviewRequestNotFound`` (404), ``ReviewRequestGone`` (410 used / expired),
``ProductNotReviewable`` (422 naming ``body.product_id``), ``ReviewNotFound`` (404) and the
domain's ``IllegalTransition`` (409). api/reviews.py maps them.

Checks run in this order so that a bad body never spends a link: the product, then the
link's state; the one-review-per-product rule is the table's unique key (request, product),
so two concurrent submissions cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import OrderDeliveredV1, ReviewApprovedV1, ReviewSubmittedV1
from relacja_servicekit.pagination import Page, paginate

from ..domain.reviews import (
    RequestRefusal,
    initial_status,
    moderate,
    new_token,
    request_refusal,
    reviewable_products,
    summarise,
    token_hash,
)
from ..settings import get_settings
from ..tables import delivered_lines, review_requests, reviews
from .events import outbox
from .review_schemas import (
    ProductReviewPublic,
    ProductReviewsPublic,
    RatingSummaryPublic,
    ReviewPublic,
    ReviewRequestProduct,
    ReviewRequestPublic,
    ReviewsPublic,
    ReviewSubmit,
)

__all__ = [
    "REVIEW_REQUEST_PATH",
    "ProductNotReviewable",
    "ReviewNotFound",
    "ReviewQuery",
    "ReviewRequest",
    "ReviewRequestGone",
    "ReviewRequestNotFound",
    "create_review_request",
    "erase_reviewer",
    "get_review",
    "list_reviews",
    "merge_reviewer",
    "moderate_review",
    "product_reviews",
    "rating_summary",
    "record_delivered_order",
    "show_review_request",
    "submit_review",
]

REVIEW_REQUEST_PATH = "/api/v1/engagement/review-requests/{token}"


# -- refusals -------------------------------------------------------------------------


class ReviewRequestNotFound(LookupError):
    """No review request has this token."""


class ReviewRequestGone(Exception):
    """The link was used up (every product reviewed, or this product already) or has expired."""

    def __init__(self, reason: RequestRefusal, at: datetime, product_id: uuid.UUID | None = None) -> None:
        self.reason, self.at, self.product_id = reason, at, product_id
        if reason == "expired":
            detail = f"This review link expired on {at.isoformat()}."
        elif product_id is not None:
            detail = f"Product {product_id} was already reviewed through this link on {at.isoformat()}."
        else:
            detail = f"Every product of this review link was reviewed (last on {at.isoformat()}); a link works once."
        super().__init__(detail)


class ProductNotReviewable(ValueError):
    """The product is not one the link asks about (not in the delivered order)."""

    def __init__(self, product_id: uuid.UUID) -> None:
        super().__init__(
            f"Product {product_id} is not among the delivered products this review link asks about "
            "(a review needs a verified purchase)."
        )
        self.product_id = product_id


class ReviewNotFound(LookupError):
    def __init__(self, review_id: uuid.UUID) -> None:
        super().__init__(f"No review with id {review_id}.")


# -- review requests ------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRequest:
    """A review request just created; ``token`` exists only here (the table keeps its hash)."""

    id: uuid.UUID
    token: str
    url: str
    customer_id: uuid.UUID
    order_id: uuid.UUID
    product_ids: tuple[uuid.UUID, ...]
    expires_at: datetime


async def create_review_request(
    session: AsyncSession,
    *,
    customer_id: uuid.UUID,
    order_id: uuid.UUID | None,
    product_ids: Sequence[uuid.UUID | str],
    now: datetime,
    base_url: str | None = None,
    valid_for: timedelta | None = None,
) -> ReviewRequest:
    """A new link asking ``customer_id`` to review the products of the delivered ``order_id``.

    ``product_ids`` narrows it to some of the order's products (UUIDs or their text, as a
    message's context carries them); empty means every product the order delivered — taken
    from the delivered-lines projection when the link is opened, so a projection that is
    still catching up when the message goes out costs nothing. ``base_url`` (default: the
    ``public_base_url`` setting, the gateway's address) and ``valid_for`` (default: the
    ``review_request_valid_days`` setting) are for callers outside the service's process.
    """
    if order_id is None:
        raise ValueError("a review request is for a delivered order: order_id is required")
    settings = get_settings()
    products = tuple(dict.fromkeys(p if isinstance(p, uuid.UUID) else uuid.UUID(str(p)) for p in product_ids))
    token, request_id = new_token(), uuid.uuid4()
    expires_at = now + (valid_for or timedelta(days=settings.review_request_valid_days))
    await session.execute(
        review_requests.insert().values(
            id=request_id,
            token_hash=token_hash(token),
            customer_id=customer_id,
            order_id=order_id,
            product_ids=list(products),
            created_at=now,
            expires_at=expires_at,
        )
    )
    base = (base_url if base_url is not None else settings.public_base_url).rstrip("/")
    return ReviewRequest(
        id=request_id,
        token=token,
        url=base + REVIEW_REQUEST_PATH.format(token=token),
        customer_id=customer_id,
        order_id=order_id,
        product_ids=products,
        expires_at=expires_at,
    )


async def _request_by_token(session: AsyncSession, token: str, *, lock: bool = False) -> Any:
    query = select(review_requests).where(review_requests.c.token_hash == token_hash(token))
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise ReviewRequestNotFound(token)
    return row


async def _products_of(session: AsyncSession, request: Any) -> list[uuid.UUID]:
    """The products the request can review: those of its order the customer had delivered."""
    delivered = (
        await session.scalars(
            select(delivered_lines.c.product_id).where(
                delivered_lines.c.order_id == request.order_id, delivered_lines.c.customer_id == request.customer_id
            )
        )
    ).all()
    return reviewable_products(request.product_ids or [], delivered)


async def _reviewed_of(session: AsyncSession, request_id: uuid.UUID) -> dict[uuid.UUID, datetime]:
    rows = await session.execute(
        select(reviews.c.product_id, reviews.c.submitted_at).where(reviews.c.request_id == request_id)
    )
    return {r.product_id: r.submitted_at for r in rows}


async def show_review_request(session: AsyncSession, token: str, now: datetime) -> ReviewRequestPublic:
    request = await _request_by_token(session, token)
    products = await _products_of(session, request)
    reviewed = await _reviewed_of(session, request.id)
    refusal = request_refusal(used_at=request.used_at, expires_at=request.expires_at, now=now)
    return ReviewRequestPublic(
        order_id=request.order_id,
        products=[ReviewRequestProduct(product_id=p, reviewed=p in reviewed) for p in products],
        expires_at=request.expires_at,
        answerable=refusal is None,
        refusal=refusal,
    )


# -- submitting -----------------------------------------------------------------------


async def submit_review(session: AsyncSession, token: str, body: ReviewSubmit, now: datetime) -> ReviewPublic:
    """The stored review; the refusals of the module docstring otherwise."""
    # Locked: the last product's review marks the link used, and two submissions for two
    # products of one link must both see each other to get that right.
    request = await _request_by_token(session, token, lock=True)
    products = await _products_of(session, request)
    if body.product_id not in products:
        raise ProductNotReviewable(body.product_id)
    refusal = request_refusal(used_at=request.used_at, expires_at=request.expires_at, now=now)
    if refusal == "used":
        raise ReviewRequestGone("used", request.used_at)
    if refusal == "expired":
        raise ReviewRequestGone("expired", request.expires_at)
    comment = body.comment or None  # "" and blanks (stripped) are no comment
    status = initial_status(comment)
    row = (
        await session.execute(
            pg_insert(reviews)
            .values(
                id=uuid.uuid4(),
                request_id=request.id,
                customer_id=request.customer_id,
                order_id=request.order_id,
                product_id=body.product_id,
                rating=body.rating,
                comment=comment,
                reviewer_name=body.reviewer_name or None,
                verified_purchase=True,  # _products_of only lists products the customer had delivered
                status=status,
                submitted_at=now,
                moderated_at=now if status == "approved" else None,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=[reviews.c.request_id, reviews.c.product_id])
            .returning(reviews)
        )
    ).first()
    if row is None:
        earlier = (await _reviewed_of(session, request.id))[body.product_id]
        raise ReviewRequestGone("used", earlier, body.product_id)
    reviewed = await _reviewed_of(session, request.id)
    if set(products) <= set(reviewed):
        await session.execute(update(review_requests).where(review_requests.c.id == request.id).values(used_at=now))
    await outbox.add(
        session,
        ReviewSubmittedV1(
            customer_id=request.customer_id,
            review_id=row.id,
            product_id=row.product_id,
            order_id=row.order_id,
            rating=row.rating,
            has_comment=comment is not None,
            verified_purchase=row.verified_purchase,
            submitted_at=now,
        ),
    )
    if status == "approved":
        await _approved(session, row, now)
    return _public(row)


async def _approved(session: AsyncSession, row: Any, now: datetime) -> None:
    await outbox.add(
        session,
        ReviewApprovedV1(
            customer_id=row.customer_id,
            review_id=row.id,
            product_id=row.product_id,
            rating=row.rating,
            approved_at=now,
        ),
    )


# -- moderation and reads -------------------------------------------------------------


def _public(row: Any) -> ReviewPublic:
    return ReviewPublic.model_validate({**row._mapping, "erased": row.erased_at is not None})


async def get_review(session: AsyncSession, review_id: uuid.UUID) -> ReviewPublic:
    row = (await session.execute(select(reviews).where(reviews.c.id == review_id))).first()
    if row is None:
        raise ReviewNotFound(review_id)
    return _public(row)


async def moderate_review(
    session: AsyncSession,
    review_id: uuid.UUID,
    action: str,
    *,
    reason: str | None,
    check_version: Callable[[int], None],
    now: datetime,
) -> ReviewPublic:
    """Approve or reject (with ``reason``); IllegalTransition from a status that does not allow it."""
    current = (await session.execute(select(reviews).where(reviews.c.id == review_id).with_for_update())).first()
    if current is None:
        raise ReviewNotFound(review_id)
    check_version(current.version)
    status = moderate(current.status, action)
    row = (
        await session.execute(
            update(reviews)
            .where(reviews.c.id == review_id)
            .values(
                status=status,
                rejection_reason=reason if status == "rejected" else None,
                moderated_at=now,
                version=reviews.c.version + 1,
                updated_at=now,
            )
            .returning(reviews)
        )
    ).one()
    # An erased reviewer's review has no customer id left to key an event with; it is public
    # or not all the same.
    if status == "approved" and row.customer_id is not None:
        await _approved(session, row, now)
    return _public(row)


@dataclass(frozen=True)
class ReviewQuery:
    status: str | None = None
    product_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None


async def list_reviews(session: AsyncSession, query: ReviewQuery, *, limit: int, cursor: str | None) -> ReviewsPublic:
    """Reviews for the staff, newest first (the moderation queue is ``status=pending``)."""
    c = reviews.c
    filters = [
        column == value
        for column, value in (
            (c.status, query.status),
            (c.product_id, query.product_id),
            (c.customer_id, query.customer_id),
        )
        if value is not None
    ]
    page: Page[ReviewPublic] = await paginate(
        session,
        select(reviews).where(*filters),
        keys=[c.submitted_at, c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=_public,
    )
    return ReviewsPublic(items=page.items, next_cursor=page.next_cursor)


async def product_reviews(
    session: AsyncSession, product_id: uuid.UUID, *, limit: int, cursor: str | None
) -> ProductReviewsPublic:
    """A product's approved reviews, newest first."""
    c = reviews.c
    page: Page[ProductReviewPublic] = await paginate(
        session,
        select(c.id, c.product_id, c.rating, c.comment, c.reviewer_name, c.verified_purchase, c.submitted_at).where(
            c.product_id == product_id, c.status == "approved"
        ),
        keys=[c.submitted_at, c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=ProductReviewPublic.from_row,
    )
    return ProductReviewsPublic(items=page.items, next_cursor=page.next_cursor)


async def rating_summary(session: AsyncSession, product_id: uuid.UUID) -> RatingSummaryPublic:
    rows = await session.execute(
        select(reviews.c.rating, func.count())
        .where(reviews.c.product_id == product_id, reviews.c.status == "approved")
        .group_by(reviews.c.rating)
    )
    summary = summarise(dict(rows.tuples().all()))
    return RatingSummaryPublic(
        product_id=product_id,
        review_count=summary.count,
        average_rating=summary.average,
        distribution={str(r): n for r, n in summary.distribution.items()},
    )


# -- event handlers (consumer ``engagement.reviews``) ---------------------------------


async def record_delivered_order(session: AsyncSession, payload: OrderDeliveredV1) -> None:
    """Remember which products the customer had delivered (lines without a catalog product skip)."""
    products = sorted({line.product_id for line in payload.lines if line.product_id is not None}, key=str)
    if not products:
        return
    await session.execute(
        pg_insert(delivered_lines)
        .values(
            [
                {
                    "order_id": payload.order_id,
                    "product_id": product_id,
                    "customer_id": payload.customer_id,
                    "delivered_at": payload.occurred_at,
                }
                for product_id in products
            ]
        )
        .on_conflict_do_nothing(index_elements=[delivered_lines.c.order_id, delivered_lines.c.product_id])
    )


async def erase_reviewer(session: AsyncSession, customer_id: uuid.UUID, now: datetime) -> None:
    """The reviewer's personal data go: their name, their comment (free text about them),
    the link to them and their links; the rating stays, anonymous, in the product's summary."""
    await session.execute(
        update(reviews)
        .where(reviews.c.customer_id == customer_id)
        .values(
            customer_id=None,
            request_id=None,
            reviewer_name=None,
            comment=None,
            erased_at=now,
            version=reviews.c.version + 1,
            updated_at=now,
        )
    )
    await session.execute(delete(review_requests).where(review_requests.c.customer_id == customer_id))
    await session.execute(delete(delivered_lines).where(delivered_lines.c.customer_id == customer_id))


async def merge_reviewer(session: AsyncSession, survivor_id: uuid.UUID, merged_id: uuid.UUID) -> None:
    """The merged customer's reviews, links and deliveries belong to the surviving customer."""
    for table in (reviews, review_requests, delivered_lines):
        await session.execute(update(table).where(table.c.customer_id == merged_id).values(customer_id=survivor_id))
