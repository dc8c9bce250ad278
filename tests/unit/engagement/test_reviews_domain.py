"""The reviews' pure rules (relacja_engagement.domain.reviews) and their request bodies."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from relacja_engagement.app.review_schemas import ReviewReject, ReviewSubmit
from relacja_engagement.domain.reviews import (
    IllegalTransition,
    initial_status,
    moderate,
    new_token,
    request_refusal,
    reviewable_products,
    summarise,
    token_hash,
)

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
P1, P2, P3 = (uuid.UUID(int=n) for n in (1, 2, 3))


def test_tokens_are_random_and_only_their_hash_is_kept():
    first, second = new_token(), new_token()
    assert first != second and len(first) >= 43  # 32 random bytes, URL-safe base64
    assert token_hash(first) == token_hash(first) != token_hash(second)
    assert len(token_hash(first)) == 64 and first not in token_hash(first)


@pytest.mark.parametrize(
    ("used_at", "expires_at", "refusal"),
    [
        (None, NOW + timedelta(seconds=1), None),
        (None, NOW, "expired"),  # the expiry instant itself is too late
        (NOW - timedelta(days=1), NOW + timedelta(days=1), "used"),
        (NOW - timedelta(days=1), NOW - timedelta(hours=1), "used"),  # used wins: it says more
    ],
)
def test_a_request_is_refused_once_used_or_expired(used_at, expires_at, refusal):
    assert request_refusal(used_at=used_at, expires_at=expires_at, now=NOW) == refusal


def test_reviewable_products_are_the_delivered_ones_the_request_names():
    assert reviewable_products([P2, P3], [P1, P2]) == [P2]  # P3 was never delivered: no verified purchase
    assert reviewable_products([], [P2, P1, P2]) == [P1, P2]  # none named: every delivered product, once
    assert reviewable_products([P1], []) == []  # the delivery is not known (yet): nothing to review


@pytest.mark.parametrize(
    ("status", "action", "after"),
    [("pending", "approve", "approved"), ("pending", "reject", "rejected"), ("approved", "reject", "rejected")],
)
def test_moderation_moves(status, action, after):
    assert moderate(status, action) == after


@pytest.mark.parametrize(
    ("status", "action", "allowed"),
    [("approved", "approve", ["reject"]), ("rejected", "approve", []), ("rejected", "reject", [])],
)
def test_illegal_moderation_names_the_status_and_what_is_allowed(status, action, allowed):
    with pytest.raises(IllegalTransition) as caught:
        moderate(status, action)
    assert (caught.value.current, caught.value.action, caught.value.allowed_actions) == (status, action, allowed)
    assert status in str(caught.value)


def test_only_a_comment_waits_for_moderation():
    assert initial_status("Great socks") == "pending"
    assert initial_status(None) == initial_status("") == "approved"


def test_the_rating_summary_by_hand():
    # 5,5,5,4,1 → 20 / 5 = 4.00 ; 5,4 → 4.50 ; 2,1,1 → 4/3 = 1.333… → 1.33 ; 5,5,4 → 14/3 = 4.666… → 4.67
    assert summarise({5: 3, 4: 1, 1: 1}).average == "4.00"
    assert summarise({5: 1, 4: 1}).average == "4.50"
    assert summarise({2: 1, 1: 2}).average == "1.33"
    summary = summarise({5: 2, 4: 1})
    assert (summary.count, summary.average) == (3, "4.67")
    assert summary.distribution == {1: 0, 2: 0, 3: 0, 4: 1, 5: 2}
    empty = summarise({})
    assert (empty.count, empty.average, empty.distribution) == (0, None, {1: 0, 2: 0, 3: 0, 4: 0, 5: 0})
    with pytest.raises(ValueError, match="outside"):
        summarise({6: 1})


@pytest.mark.parametrize("rating", [0, 6, -1, "5", 4.5, True, None])
def test_a_rating_outside_one_to_five_or_not_an_integer_names_the_field(rating):
    with pytest.raises(ValidationError) as caught:
        ReviewSubmit.model_validate({"product_id": str(P1), "rating": rating})
    assert [e["loc"] for e in caught.value.errors()] == [("rating",)]


def test_a_review_body():
    body = ReviewSubmit.model_validate({"product_id": str(P1), "rating": 5.0, "comment": "  fits well  "})
    assert (body.rating, body.comment, body.reviewer_name) == (5, "fits well", None)
    with pytest.raises(ValidationError):
        ReviewSubmit.model_validate({"product_id": str(P1), "rating": 3, "stars": 3})  # unknown field
    with pytest.raises(ValidationError):
        ReviewReject.model_validate({"reason": "   "})  # a rejection says why
    assert ReviewReject.model_validate({"reason": " spam "}).reason == "spam"
