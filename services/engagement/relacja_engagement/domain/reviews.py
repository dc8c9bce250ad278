"""Reviews, the pure rules: tokens, a request's state, moderation, the rating summary.

new_token / token_hash   a review link's credential: 32 random bytes (URL-safe base64);
                         only its SHA-256 is stored, so a database dump answers no link
request_refusal          why a review request can take no (more) reviews: used or expired
reviewable_products      what a request asks about: its own list, or the delivered order's
moderate                 pending → approved | rejected; approved → rejected (taken down);
                         anything else is IllegalTransition (409 naming the status)
initial_status           a rating without a comment has nothing to moderate: approved at once
summarise                count, average (two decimals, as a string) and the 1–5 distribution
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from uuid import UUID

__all__ = [
    "MODERATION",
    "RATING_MAX",
    "RATING_MIN",
    "IllegalTransition",
    "RatingSummary",
    "RequestRefusal",
    "ReviewAction",
    "ReviewStatus",
    "initial_status",
    "moderate",
    "new_token",
    "request_refusal",
    "reviewable_products",
    "summarise",
    "token_hash",
]

RATING_MIN, RATING_MAX = 1, 5

ReviewStatus = Literal["pending", "approved", "rejected"]
ReviewAction = Literal["approve", "reject"]
RequestRefusal = Literal["used", "expired"]

# A rejected review stays rejected (the customer may be sent a new request); an approved one
# can still be taken down when a complaint about it comes in later.
MODERATION: Mapping[str, Mapping[str, ReviewStatus]] = {
    "pending": {"approve": "approved", "reject": "rejected"},
    "approved": {"reject": "rejected"},
    "rejected": {},
}


class IllegalTransition(ValueError):
    """A moderation action the review's status does not allow."""

    def __init__(self, action: str, current: str) -> None:
        self.action, self.current = action, current
        self.allowed_actions = sorted(MODERATION.get(current, {}))
        super().__init__(f"Cannot {action} a review whose status is {current}.")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_refusal(*, used_at: datetime | None, expires_at: datetime, now: datetime) -> RequestRefusal | None:
    """Why a review request takes no more reviews (``used`` wins over ``expired``), or None."""
    if used_at is not None:
        return "used"
    if now >= expires_at:
        return "expired"
    return None


def reviewable_products(requested: Sequence[UUID], delivered: Iterable[UUID]) -> list[UUID]:
    """The products a request asks about, in a stable order: the ones it names that the order
    delivered, or — when it names none — every product the order delivered."""
    delivered_set = set(delivered)
    chosen = [p for p in requested if p in delivered_set] if requested else list(delivered_set)
    return sorted(dict.fromkeys(chosen), key=str)


def moderate(current: str, action: str) -> ReviewStatus:
    """The status after ``action``; IllegalTransition when the status does not allow it."""
    target = MODERATION.get(current, {}).get(action)
    if target is None:
        raise IllegalTransition(action, current)
    return target


def initial_status(comment: str | None) -> ReviewStatus:
    """Comments wait for a moderator; a bare rating has nothing to moderate."""
    return "pending" if comment else "approved"


@dataclass(frozen=True)
class RatingSummary:
    count: int
    average: str | None  # two decimals, rounded half up; None without ratings
    distribution: dict[int, int]  # every rating 1..5, zeros included


def summarise(counts: Mapping[int, int]) -> RatingSummary:
    """The summary of approved ratings given as {rating: how many}."""
    distribution = {r: int(counts.get(r, 0)) for r in range(RATING_MIN, RATING_MAX + 1)}
    unexpected = set(counts) - set(distribution)
    if unexpected:
        raise ValueError(f"ratings outside {RATING_MIN}..{RATING_MAX}: {sorted(unexpected)}")
    total = sum(distribution.values())
    if total == 0:
        return RatingSummary(0, None, distribution)
    mean = Decimal(sum(r * n for r, n in distribution.items())) / Decimal(total)
    return RatingSummary(total, str(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), distribution)
