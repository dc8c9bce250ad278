"""Events produced by the loyalty service on ``relacja.loyalty``.

Map of the module:

    MemberEnrolledV1 / MemberLeftV1      a customer joined or left a programme (card number)
    PointsEarnedV1                       a lot of points was added to the ledger (an order, a bonus)
    PointsRedeemedV1                     points were spent on a reward (a coupon was issued for them)
    PointsReversedV1                     a cancelled or returned order took its points back (debt when spent)
    PointsExpiredV1                      a lot's remaining points expired
    PointsAdjustedV1                     an operator added or removed points, with a reason
    TierChangedV1                        a member's tier changed (deterministic evaluation)
    CouponIssuedV1 / CouponRevokedV1     a coupon exists / no longer exists (the orders service projects these)
    CouponRedeemedV1 / CouponReleasedV1  the loyalty service learnt from the orders' events that a coupon
                                         was used by an order / given back by its cancellation

Points are integers; money is a decimal string beside its currency. The ledger is the
truth (``docs/loyalty.md``): each points event names the ledger entry it reports, and the
balance after it, so a consumer can check it has missed nothing.

The Kafka key is the customer id. A public coupon belongs to no customer: its events are
keyed by the coupon id, so all events of one coupon still stay in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..money import Amount, CurrencyCode
from ..topics import LOYALTY

__all__ = [
    "CouponAppliesTo",
    "CouponIssuedV1",
    "CouponRedeemedV1",
    "CouponReleasedV1",
    "CouponRevokedV1",
    "DiscountKind",
    "EarnRule",
    "MemberEnrolledV1",
    "MemberLeftV1",
    "PointsAdjustedV1",
    "PointsEarnedV1",
    "PointsExpiredV1",
    "PointsRedeemedV1",
    "PointsReversedV1",
    "TierChangedV1",
]

DiscountKind = Literal["percentage", "fixed_amount", "free_product"]
CouponAppliesTo = Literal["order", "product", "category"]
EarnRule = Literal["purchase", "welcome", "order_bonus"]


class _MemberEvent(EventPayload):
    customer_id: UUID
    member_id: UUID
    programme_id: UUID


class MemberEnrolledV1(_MemberEvent):
    """A customer enrolled in a loyalty programme and received a card number."""

    event_type = "relacja.loyalty.member.enrolled.v1"
    topic = LOYALTY

    card_number: str
    enrolled_at: datetime


class MemberLeftV1(_MemberEvent):
    """A member left the programme; their points stay in the ledger until they expire."""

    event_type = "relacja.loyalty.member.left.v1"
    topic = LOYALTY

    left_at: datetime


class _PointsEvent(_MemberEvent):
    entry_id: UUID = Field(description="The ledger entry this event reports")
    points: int = Field(description="Points of the entry: positive for earn, the amount taken for the others")
    balance: int = Field(description="The member's balance (sum of the ledger) after the entry")
    occurred_at: datetime


class PointsEarnedV1(_PointsEvent):
    """A lot of points was earned (pending until ``spendable_at``)."""

    event_type = "relacja.loyalty.points.earned.v1"
    topic = LOYALTY

    rule: EarnRule
    order_id: UUID | None = Field(default=None, description="The order that earned it (null for a welcome bonus)")
    spendable_at: datetime = Field(description="End of the pending period: the points are spendable from then")
    expires_at: datetime | None = Field(description="Null when the programme's points never expire")
    settled_debt: int = Field(default=0, ge=0, description="Points of this lot that paid off an earlier debt")


class PointsRedeemedV1(_PointsEvent):
    """Points were spent on a reward; the coupon issued for them is announced by CouponIssuedV1."""

    event_type = "relacja.loyalty.points.redeemed.v1"
    topic = LOYALTY

    reward_id: UUID
    coupon_id: UUID


class PointsReversedV1(_PointsEvent):
    """A cancellation or a return took back points an order had earned."""

    event_type = "relacja.loyalty.points.reversed.v1"
    topic = LOYALTY

    order_id: UUID
    cause: Literal["cancellation", "return"]
    debt: int = Field(ge=0, description="Points already spent, recorded as a debt later earnings settle first")


class PointsExpiredV1(_PointsEvent):
    """A lot's remaining points expired."""

    event_type = "relacja.loyalty.points.expired.v1"
    topic = LOYALTY

    lot_id: UUID = Field(description="The earn entry whose points expired")


class PointsAdjustedV1(_PointsEvent):
    """An operator adjusted the balance (``points`` signed: positive adds, negative removes)."""

    event_type = "relacja.loyalty.points.adjusted.v1"
    topic = LOYALTY

    reason: str
    actor: str = Field(description="Who made the adjustment (the token's subject)")


class TierChangedV1(_MemberEvent):
    """A member's tier changed (``previous_tier`` null on the first qualification)."""

    event_type = "relacja.loyalty.tier.changed.v1"
    topic = LOYALTY

    previous_tier: str | None
    tier: str | None = Field(description="Null when the member no longer qualifies for any tier")
    trigger: Literal["change", "daily"] = Field(description="A ledger change, or the daily evaluation")
    changed_at: datetime


class _CouponEvent(EventPayload):
    coupon_id: UUID
    code: str
    customer_id: UUID | None = Field(default=None, description="The coupon's owner; null for a public coupon")

    def subject(self) -> str:
        # A public coupon has no customer: keyed by the coupon so its events stay in order.
        return str(self.customer_id or self.coupon_id)


class CouponIssuedV1(_CouponEvent):
    """A coupon was issued (in bulk, for a reward, or at another service's request)."""

    event_type = "relacja.loyalty.coupon.issued.v1"
    topic = LOYALTY

    offer_id: UUID
    discount_kind: DiscountKind
    discount_value: Amount = Field(
        description="Percent (0-100] for percentage, an amount for fixed_amount, 0 for free_product"
    )
    currency: CurrencyCode | None = Field(default=None, description="The currency of a fixed amount and minimum")
    applies_to: CouponAppliesTo
    product_id: UUID | None = Field(default=None, description="When applies_to is product, or the free product")
    category: str | None = Field(default=None, description="When applies_to is category")
    minimum_order_value: Amount | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    max_uses: int = Field(ge=1)
    combinable: bool
    issued_at: datetime


class CouponRevokedV1(_CouponEvent):
    """A coupon was revoked: checkout must refuse it from now on."""

    event_type = "relacja.loyalty.coupon.revoked.v1"
    topic = LOYALTY

    revoked_at: datetime


class CouponRedeemedV1(_CouponEvent):
    """An order used the coupon (learnt from OrderPlacedV1 carrying its code)."""

    event_type = "relacja.loyalty.coupon.redeemed.v1"
    topic = LOYALTY

    order_id: UUID
    order_customer_id: UUID = Field(description="The customer who placed the order")
    uses: int = Field(ge=0, description="Uses counted after this one")
    occurred_at: datetime


class CouponReleasedV1(_CouponEvent):
    """A cancelled order gave its coupon use back (learnt from OrderCancelledV1)."""

    event_type = "relacja.loyalty.coupon.released.v1"
    topic = LOYALTY

    order_id: UUID
    order_customer_id: UUID
    uses: int = Field(ge=0, description="Uses counted after the release")
    occurred_at: datetime
