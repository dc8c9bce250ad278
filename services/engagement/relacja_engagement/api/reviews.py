"""Reviews: ``/api/v1/engagement/{review-requests,reviews,products}``.

Public (no login at the gateway: the link's token is the credential, as for the surveys):

    GET  /review-requests/{token}            what the link lets the customer review
    POST /review-requests/{token}/reviews    rate one product 1–5 (+ comment) once; Idempotency-Key

Staff (engagement:read / engagement:write):

    GET  /reviews                            ?status=&product_id=&customer_id=, newest first
    GET  /reviews/{id}                       with its ETag
    POST /reviews/{id}/approve               pending → approved (If-Match optional)
    POST /reviews/{id}/reject                pending | approved → rejected, with a reason
    GET  /products/{product_id}/reviews      the approved reviews, newest first
    GET  /products/{product_id}/rating-summary   count, average, distribution of approved ratings

Problems: an unknown token or review 404; a link used up (or this product already reviewed
through it) ``410 review-request-used``, past its expiry ``410 review-request-expired`` —
both name ``path.token``; a product the link does not cover ``422 product-not-reviewable``
naming ``body.product_id``; a rating outside 1–5 ``422`` naming ``body.rating``; a
moderation action the status does not allow ``409 illegal-transition`` with
``current_status`` and ``allowed_actions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.etags import IfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import reviews as use_cases
from ..app.review_schemas import (
    ProductReviewsPublic,
    RatingSummaryPublic,
    ReviewPublic,
    ReviewReject,
    ReviewRequestPublic,
    ReviewsPublic,
    ReviewSubmit,
    SubmittedReviewPublic,
)
from ..app.reviews import ProductNotReviewable, ReviewNotFound, ReviewRequestGone, ReviewRequestNotFound
from ..domain.reviews import IllegalTransition, token_hash

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/engagement", tags=["reviews"], dependencies=[RequireJson])

Token = Annotated[
    str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_-]+$", description="The review link's token")
]
ILLEGAL_TRANSITION = "Not allowed in the review's status (illegal-transition: `current_status`, `allowed_actions`)"
GONE = "The link was used up or this product already reviewed (review-request-used), or it expired (review-request-expired)"


def _problem(err: Exception) -> Problem:
    if isinstance(err, ReviewRequestNotFound):
        return Problem(404, "Review request not found", "No review request has this token.", type_="not-found")
    if isinstance(err, ReviewNotFound):
        return Problem(404, "Review not found", str(err), type_="not-found")
    if isinstance(err, ReviewRequestGone):
        return Problem(
            410,
            "Review link expired" if err.reason == "expired" else "Review link already used",
            str(err),
            type_=f"review-request-{err.reason}",
            errors=[{"field": "path.token", "message": err.reason}],
        )
    if isinstance(err, ProductNotReviewable):
        return Problem(
            422,
            "Validation failed",
            str(err),
            type_="product-not-reviewable",
            errors=[{"field": "body.product_id", "message": "not a delivered product of this review request"}],
        )
    if isinstance(err, IllegalTransition):
        return Problem(
            409,
            "Illegal transition",
            str(err),
            type_="illegal-transition",
            extra={"current_status": err.current, "action": err.action, "allowed_actions": err.allowed_actions},
        )
    raise TypeError(f"no problem for {type(err).__name__}")


@contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except (ReviewRequestNotFound, ReviewNotFound, ReviewRequestGone, ProductNotReviewable, IllegalTransition) as err:
        raise _problem(err) from None


# -- public: the review link ----------------------------------------------------------


@router.get(
    "/review-requests/{token}",
    response_model=ReviewRequestPublic,
    summary="What a review link lets the customer review (no login)",
    responses=problem_responses({404: "No review request has this token"}),
)
async def show_review_request(token: Token, session: SessionDep) -> Any:
    with _refusals():
        return await use_cases.show_review_request(session, token, datetime.now(UTC))


@router.post(
    "/review-requests/{token}/reviews",
    status_code=201,
    response_model=SubmittedReviewPublic,
    summary="Rate a delivered product 1–5, with an optional comment, once per link (no login)",
    responses=problem_responses(
        {404: "No review request has this token"},
        {410: GONE},
        {
            422: "The body fails validation (a rating outside 1–5 names body.rating), or the product is not one "
            "this link covers (product-not-reviewable, body.product_id)"
        },
    ),
)
async def submit_review(
    token: Token, body: ReviewSubmit, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    # The scope names the link by its hash: a key replays only for the link it was used with,
    # and the token itself is stored nowhere.
    scope = f"engagement.reviews.submit.{token_hash(token)}"
    with _refusals():
        async with session.begin():
            if stored := await claim_request(session, scope, idempotency_key, body):
                return stored.to_response()
            review = await use_cases.submit_review(session, token, body, datetime.now(UTC))
            answer = SubmittedReviewPublic.model_validate(review.model_dump())
            return await created_response(
                session, scope, idempotency_key, answer, location=f"/api/v1/engagement/reviews/{review.id}"
            )


# -- staff: moderation ----------------------------------------------------------------


@router.get("/reviews", response_model=ReviewsPublic, summary="List reviews, newest first (cursor-paginated)")
async def list_reviews(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    status: Literal["pending", "approved", "rejected"] | None = None,
    product_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
) -> Any:
    query = use_cases.ReviewQuery(status=status, product_id=product_id, customer_id=customer_id)
    return await use_cases.list_reviews(session, query, limit=limit, cursor=cursor)


@router.get(
    "/reviews/{review_id}",
    response_model=ReviewPublic,
    summary="Get a review",
    responses=problem_responses({404: "No such review"}),
)
async def get_review(review_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with _refusals():
        review = await use_cases.get_review(session, review_id)
    response.headers["ETag"] = etag(review.version)
    return review


async def _moderate(
    session: SessionDep, review_id: uuid.UUID, action: str, reason: str | None, if_match: str | None
) -> JSONResponse:
    def check_version(version: int) -> None:
        check_if_match(if_match, version, what="review")

    with _refusals():
        async with session.begin():
            review = await use_cases.moderate_review(
                session, review_id, action, reason=reason, check_version=check_version, now=datetime.now(UTC)
            )
    return JSONResponse(review.model_dump(mode="json"), headers={"ETag": etag(review.version)})


@router.post(
    "/reviews/{review_id}/approve",
    response_model=ReviewPublic,
    summary="Approve a review: pending → approved (it becomes public)",
    responses=problem_responses({404: "No such review"}, {409: ILLEGAL_TRANSITION}),
)
async def approve_review(review_id: uuid.UUID, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    return await _moderate(session, review_id, "approve", None, if_match)


@router.post(
    "/reviews/{review_id}/reject",
    response_model=ReviewPublic,
    summary="Reject a review with a reason: pending or approved → rejected",
    responses=problem_responses({404: "No such review"}, {409: ILLEGAL_TRANSITION}),
)
async def reject_review(
    review_id: uuid.UUID, body: ReviewReject, session: SessionDep, if_match: IfMatchHeader = None
) -> JSONResponse:
    return await _moderate(session, review_id, "reject", body.reason, if_match)


# -- reads of a product -----------------------------------------------------------------


@router.get(
    "/products/{product_id}/reviews",
    response_model=ProductReviewsPublic,
    summary="A product's approved reviews, newest first (cursor-paginated)",
)
async def product_reviews(
    product_id: uuid.UUID, session: SessionDep, limit: LimitParam = DEFAULT_LIMIT, cursor: CursorParam = None
) -> Any:
    return await use_cases.product_reviews(session, product_id, limit=limit, cursor=cursor)


@router.get(
    "/products/{product_id}/rating-summary",
    response_model=RatingSummaryPublic,
    summary="A product's approved ratings: count, average and distribution",
)
async def rating_summary(product_id: uuid.UUID, session: SessionDep) -> Any:
    return await use_cases.rating_summary(session, product_id)
