"""Request and response bodies of the reviews (app/reviews.py, api/reviews.py).

    review requests  ReviewRequestPublic (what a link lets the customer review)
    reviews          ReviewSubmit → SubmittedReviewPublic (to the customer), ReviewPublic (staff),
                     ProductReviewPublic (approved, public
                     fields only), ReviewsPublic, ProductReviewsPublic; ReviewReject
    products         RatingSummaryPublic

A rating is a JSON integer 1–5 (``Integer``: no ``"5"``, no ``4.5``); outside that it is 422
naming ``body.rating``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from relacja_servicekit.models import RowModel
from relacja_servicekit.types import JsonInteger

from ..domain.reviews import RATING_MAX, RATING_MIN, RequestRefusal, ReviewStatus

__all__ = [
    "ProductReviewPublic",
    "ProductReviewsPublic",
    "RatingSummaryPublic",
    "ReviewPublic",
    "ReviewReject",
    "ReviewRequestProduct",
    "ReviewRequestPublic",
    "ReviewSubmit",
    "ReviewsPublic",
    "SubmittedReviewPublic",
]

Rating = Annotated[int, Field(ge=RATING_MIN, le=RATING_MAX, description="1 (poor) to 5 (excellent)"), JsonInteger]


class ReviewSubmit(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    product_id: uuid.UUID = Field(description="One of the products the review request lists")
    rating: Rating
    comment: str | None = Field(
        default=None, max_length=5000, description="Optional; a review with a comment waits for moderation"
    )
    reviewer_name: str | None = Field(
        default=None, max_length=100, description="The name to show with the review (optional)"
    )


class ReviewReject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # The pattern states in the schema what stripping enforces: some text besides blanks.
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000, pattern=r"\S")] = (
        Field(description="Why the review is rejected (kept with the review, for the staff)")
    )


class ReviewRequestProduct(BaseModel):
    product_id: uuid.UUID
    reviewed: bool = Field(description="Already reviewed through this link (a second review is 410)")


class ReviewRequestPublic(BaseModel):
    order_id: uuid.UUID
    products: list[ReviewRequestProduct] = Field(description="The delivered products this link can review")
    rating_min: int = RATING_MIN
    rating_max: int = RATING_MAX
    expires_at: datetime
    answerable: bool = Field(description="False once every product is reviewed or the link expired")
    refusal: RequestRefusal | None = Field(description="Why it is not answerable: used or expired")


class SubmittedReviewPublic(BaseModel):
    """The answer to the customer who submitted a review."""

    id: uuid.UUID
    product_id: uuid.UUID
    rating: int
    comment: str | None
    reviewer_name: str | None
    status: ReviewStatus = Field(description="pending while the comment waits for moderation; approved without one")
    submitted_at: datetime


class ReviewPublic(RowModel):
    """A review as the staff see it (moderation)."""

    id: uuid.UUID
    product_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID | None = Field(description="Null once the reviewer was erased")
    rating: int
    comment: str | None
    reviewer_name: str | None
    verified_purchase: bool
    status: ReviewStatus
    rejection_reason: str | None
    submitted_at: datetime
    moderated_at: datetime | None
    erased: bool = Field(description="The reviewer's personal data (name, comment, customer id) were erased")
    version: int


class ReviewsPublic(BaseModel):
    items: list[ReviewPublic]
    next_cursor: str | None


class ProductReviewPublic(RowModel):
    """An approved review as anyone reading a product's reviews sees it."""

    id: uuid.UUID
    product_id: uuid.UUID
    rating: int
    comment: str | None
    reviewer_name: str | None
    verified_purchase: bool
    submitted_at: datetime


class ProductReviewsPublic(BaseModel):
    items: list[ProductReviewPublic]
    next_cursor: str | None


class RatingSummaryPublic(BaseModel):
    product_id: uuid.UUID
    review_count: int = Field(description="Approved reviews")
    average_rating: str | None = Field(description="Mean of the approved ratings, two decimals; null without any")
    distribution: dict[str, int] = Field(description='Approved reviews per rating, "1" to "5"')
