"""Commands and results of the loyalty use cases: the request and response bodies.

    programmes  ProgrammeCreate (TierIn) → ProgrammePublic, ProgrammesPublic; ProgrammeKpis
    members     Enrolment, AdjustmentCreate, RedemptionCreate → MemberPublic, MembersPublic,
                LedgerEntryPublic, LedgerPage, RedemptionPublic, CustomerLoyalty (customer 360)
    catalogue   OfferCreate → OfferPublic, OffersPublic; RewardCreate → RewardPublic, RewardsPublic;
                CouponsIssue → CouponPublic, CouponsPublic

Every constraint is a pydantic constraint, so the OpenAPI document states it. Points are
JSON integers (``relacja_servicekit.types.Integer``: no ``"5"``, no ``5.5``); money and
rates are decimal strings matching a pattern (no floats, no exponents).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from relacja_contracts.events.loyalty import CouponAppliesTo, DiscountKind
from relacja_contracts.money import Amount, CurrencyCode
from relacja_servicekit.models import RowModel
from relacja_servicekit.types import JsonInteger, StrictBool, Timestamp

__all__ = [
    "AdjustmentCreate",
    "CouponPublic",
    "CouponsIssue",
    "CouponsPublic",
    "CustomerLoyalty",
    "Enrolment",
    "LedgerEntryPublic",
    "LedgerPage",
    "MemberPublic",
    "MembersPublic",
    "OfferCreate",
    "OfferPublic",
    "OffersPublic",
    "ProgrammeCreate",
    "ProgrammeKpis",
    "ProgrammePublic",
    "ProgrammesPublic",
    "RedemptionCreate",
    "RedemptionPublic",
    "RewardCreate",
    "RewardPublic",
    "RewardsPublic",
    "TierIn",
    "TierProgressPublic",
]


def _decimal_text(pattern: str, example: str) -> tuple[BeforeValidator, WithJsonSchema]:
    """A decimal given as text matching ``pattern`` (pydantic's Decimal alone would take
    numbers, exponents and blanks the schema does not allow)."""
    matches = re.compile(pattern).match

    def check(value: Any) -> Any:
        if isinstance(value, Decimal) or (isinstance(value, str) and matches(value)):
            return value
        raise ValueError(f"must be a decimal string such as {example!r}")

    return BeforeValidator(check), WithJsonSchema({"type": "string", "pattern": pattern, "examples": [example]})


#: numeric(18, 4): 14 integer digits, at most 4 decimals.
Money = Annotated[Decimal, *_decimal_text(r"^[0-9]{1,14}(\.[0-9]{1,4})?$", "100.00")]
#: A multiplier or a rate: up to 4 integer digits and 4 decimals (numeric(8|12, 4)).
Rate = Annotated[Decimal, *_decimal_text(r"^[0-9]{1,4}(\.[0-9]{1,4})?$", "1.5")]
#: The money value of one point: numeric(12, 6).
PointValue = Annotated[Decimal, *_decimal_text(r"^[0-9]{1,6}(\.[0-9]{1,6})?$", "0.01")]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Points = Annotated[int, Field(ge=1, le=100_000_000), JsonInteger]


def _not_zero(value: int) -> int:
    if value == 0:
        raise ValueError("must not be 0")
    return value


#: A signed number of points, never 0 (the schema says so with ``not``).
SignedPoints = Annotated[
    int,
    JsonInteger,
    AfterValidator(_not_zero),
    WithJsonSchema({"type": "integer", "minimum": -100_000_000, "maximum": 100_000_000, "not": {"const": 0}}),
    Field(ge=-100_000_000, le=100_000_000),
]

ExpiryPolicy = Literal["after_months", "end_of_year", "never"]
TierBasis = Literal["points", "spend"]
Audience = Literal["everyone", "segment", "tier"]
MemberStatus = Literal["active", "left", "merged", "erased"]
EntryKind = Literal["earn", "redeem", "expire", "reverse", "adjust"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Programmes


class TierIn(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")]
    threshold: Money = Field(description="Points or spend in the window that qualify (tier_basis)")
    multiplier: Rate = Field(default=Decimal(1), description="Applied to purchase points of the tier's members")


class ProgrammeCreate(_Strict):
    name: Name
    currency: CurrencyCode
    points_per_unit: Rate = Field(description="Points per currency unit of the net amount (tax excluded)")
    category_multipliers: dict[Annotated[str, Field(min_length=1, max_length=100)], Rate] = Field(
        default_factory=dict, max_length=200
    )
    welcome_points: Annotated[int, Field(ge=0, le=1_000_000), JsonInteger] = 0
    birthday_multiplier: Rate = Field(default=Decimal(1), description="Purchase points in the birthday month")
    order_bonus_threshold: Money | None = Field(default=None, description="Net amount from which the bonus is given")
    order_bonus_points: Annotated[int, Field(ge=0, le=1_000_000), JsonInteger] = 0
    pending_period_seconds: Annotated[int, Field(ge=0, le=365 * 86_400), JsonInteger] = Field(
        default=14 * 86_400, description="Points become spendable this long after the payment (the return window)"
    )
    expiry_policy: ExpiryPolicy = "after_months"
    expiry_months: Annotated[int, Field(ge=1, le=120), JsonInteger] | None = Field(
        default=24, description="For after_months"
    )
    expiring_soon_days: Annotated[int, Field(ge=1, le=365), JsonInteger] = 30
    point_value: PointValue = Field(default=Decimal("0.01"), description="Money value of one point (liability)")
    tier_basis: TierBasis = "points"
    tier_window_months: Annotated[int, Field(ge=1, le=60), JsonInteger] = 12
    tier_grace_days: Annotated[int, Field(ge=0, le=730), JsonInteger] = 30
    tiers: list[TierIn] = Field(default_factory=list, max_length=20)


class ProgrammePublic(RowModel):
    id: uuid.UUID
    name: str
    currency: str
    points_per_unit: Amount
    category_multipliers: dict[str, Amount]
    welcome_points: int
    birthday_multiplier: Amount
    order_bonus_threshold: Amount | None
    order_bonus_points: int
    pending_period_seconds: int
    expiry_policy: ExpiryPolicy
    expiry_months: int | None
    expiring_soon_days: int
    point_value: Amount
    tier_basis: TierBasis
    tier_window_months: int
    tier_grace_days: int
    tiers: list[TierIn]
    version: int
    created_at: datetime


class ProgrammesPublic(BaseModel):
    items: list[ProgrammePublic]
    next_cursor: str | None


class ProgrammeKpis(BaseModel):
    programme_id: uuid.UUID
    currency: str
    active_members: int
    points_issued: int = Field(description="Earned and positively adjusted, net of reversals")
    points_redeemed: int
    points_expired: int
    redemption_rate: Amount = Field(description="points_redeemed / points_issued (0 when nothing was issued)")
    outstanding_points: int = Field(description="Sum of the members' balances")
    outstanding_liability: Amount = Field(description="outstanding_points × point_value, in currency")
    members_per_tier: dict[str, int] = Field(description="Active members by tier ('none': no tier)")


# Members


class Enrolment(_Strict):
    programme_id: uuid.UUID
    customer_id: uuid.UUID


class AdjustmentCreate(_Strict):
    points: SignedPoints = Field(description="Positive adds a lot; negative takes points (not more than held)")
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"\S")]


class RedemptionCreate(_Strict):
    reward_id: uuid.UUID


class TierProgressPublic(BaseModel):
    basis: TierBasis
    window_months: int
    qualifying_value: Amount
    next_tier: str | None
    missing: Amount | None = Field(description="What the qualifying value still lacks for next_tier")


class MemberPublic(BaseModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    customer_id: uuid.UUID
    card_number: str | None
    status: MemberStatus
    enrolled_at: datetime
    left_at: datetime | None
    balance: int = Field(description="The sum of the ledger")
    available: int = Field(description="Spendable now: spendable lots minus debt")
    pending: int = Field(description="In the pending period")
    expiring_soon: int = Field(description="Expiring within the programme's expiring_soon_days")
    debt: int = Field(description="Reversed points already spent; later earnings settle it first")
    tier: str | None
    tier_downgrade_pending_since: datetime | None
    progress: TierProgressPublic
    version: int


class MembersPublic(BaseModel):
    items: list[MemberPublic]
    next_cursor: str | None


class LedgerEntryPublic(RowModel):
    id: uuid.UUID
    member_id: uuid.UUID
    kind: EntryKind
    points: int
    rule: str | None
    order_id: uuid.UUID | None
    remaining: int | None = Field(description="Lots: points not yet redeemed, expired or reversed")
    spendable_at: datetime | None
    expires_at: datetime | None
    debt: int
    reward_id: uuid.UUID | None
    coupon_id: uuid.UUID | None
    reason: str | None
    actor: str | None
    occurred_at: datetime


class LedgerPage(BaseModel):
    items: list[LedgerEntryPublic]
    next_cursor: str | None


# Catalogue


class OfferCreate(_Strict):
    name: Name
    discount_kind: DiscountKind
    discount_value: Money = Field(description="Percent (0, 100] or an amount; 0 for free_product")
    currency: CurrencyCode | None = None
    applies_to: CouponAppliesTo = "order"
    product_id: uuid.UUID | None = None
    category: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    minimum_order_value: Money | None = None
    valid_from: Timestamp | None = None
    valid_until: Timestamp | None = None
    audience: Audience = "everyone"
    segment_id: uuid.UUID | None = None
    tier: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    combinable: StrictBool = False


class OfferPublic(RowModel):
    id: uuid.UUID
    name: str
    discount_kind: DiscountKind
    discount_value: Amount
    currency: str | None
    applies_to: CouponAppliesTo
    product_id: uuid.UUID | None
    category: str | None
    minimum_order_value: Amount | None
    valid_from: datetime | None
    valid_until: datetime | None
    audience: Audience
    segment_id: uuid.UUID | None
    tier: str | None
    combinable: bool
    version: int
    created_at: datetime


class OffersPublic(BaseModel):
    items: list[OfferPublic]
    next_cursor: str | None


class RewardCreate(_Strict):
    programme_id: uuid.UUID
    name: Name
    points_cost: Points
    offer_id: uuid.UUID
    tier: Annotated[str, Field(min_length=1, max_length=50)] | None = Field(
        default=None, description="Only members of this tier may redeem it"
    )
    coupon_valid_days: Annotated[int, Field(ge=1, le=3650), JsonInteger] | None = Field(
        default=None, description="The coupon expires this many days after the redemption (else: the offer's end)"
    )


class RewardPublic(RowModel):
    id: uuid.UUID
    programme_id: uuid.UUID
    name: str
    points_cost: int
    offer_id: uuid.UUID
    tier: str | None
    coupon_valid_days: int | None
    version: int
    created_at: datetime


class RewardsPublic(BaseModel):
    items: list[RewardPublic]
    next_cursor: str | None


class CouponsIssue(_Strict):
    count: Annotated[int, Field(ge=1, le=1000), JsonInteger] = Field(default=1, description="How many codes")
    customer_id: uuid.UUID | None = Field(default=None, description="Personal coupons for this customer; null: public")
    max_uses: Annotated[int, Field(ge=1, le=1_000_000), JsonInteger] = 1
    valid_from: Timestamp | None = Field(default=None, description="Default: the offer's")
    valid_until: Timestamp | None = Field(default=None, description="Default: the offer's")


class CouponPublic(RowModel):
    id: uuid.UUID
    code: str
    offer_id: uuid.UUID
    customer_id: uuid.UUID | None
    max_uses: int
    uses: int
    status: Literal["active", "revoked"]
    source: Literal["bulk", "reward", "request"]
    valid_from: datetime | None
    valid_until: datetime | None
    issued_at: datetime
    revoked_at: datetime | None
    version: int


class CouponsPublic(BaseModel):
    items: list[CouponPublic]
    next_cursor: str | None


class RedemptionPublic(BaseModel):
    entry: LedgerEntryPublic
    coupon: CouponPublic
    balance: int
    available: int


class CustomerLoyalty(BaseModel):
    """The loyalty part of the gateway's customer 360 view."""

    customer_id: uuid.UUID
    memberships: list[MemberPublic]
    active_coupons: list[CouponPublic]
