"""Tables of the loyalty service.

Programmes and catalogues (written through the API):

    loyalty_programmes    earning rules, pending period, expiry policy, tiers, point value
    loyalty_rewards       points → an offer's coupon, optionally for one tier only
    loyalty_offers        discounts (order / product / category), validity, audience, combinability
    loyalty_coupons       issued codes: personal or public, single- or N-use, uses counted
    loyalty_coupon_uses   one row per order that used a coupon (released when it is cancelled)

Members and the ledger:

    loyalty_members       one per programme and customer: card number, status, tier, and the
                          balance and debt kept in step with the ledger in each transaction
    loyalty_ledger        append-only entries; an earn (or positive adjust) row is also a lot:
                          ``remaining``, ``spendable_at``, ``expires_at``
    loyalty_orders        per paid order: its member, amounts, points earned and reversed so far

Projections of other services' events:

    known_customers           relacja.customers (who exists, merges, erasure)
    loyalty_segment_members   relacja.segmentation rule-based segment membership (offer audiences)
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

__all__ = [
    "coupon_uses",
    "coupons",
    "known_customers",
    "ledger",
    "members",
    "metadata",
    "offers",
    "orders",
    "programmes",
    "rewards",
    "segment_members",
]

metadata = MetaData()

MONEY = Numeric(18, 4)


def _created() -> Column[object]:
    return Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated() -> Column[object]:
    return Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now())


programmes = Table(
    "loyalty_programmes",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("currency", Text, nullable=False),
    Column("points_per_unit", Numeric(12, 4), nullable=False),
    Column("category_multipliers", JSONB, nullable=False, comment="category → multiplier (decimal strings)"),
    Column("welcome_points", Integer, nullable=False),
    Column("birthday_multiplier", Numeric(8, 4), nullable=False),
    Column("order_bonus_threshold", MONEY, nullable=True),
    Column("order_bonus_points", Integer, nullable=False),
    Column("pending_period_seconds", Integer, nullable=False),
    Column("expiry_policy", Text, nullable=False, comment="after_months | end_of_year | never"),
    Column("expiry_months", Integer, nullable=True),
    Column("expiring_soon_days", Integer, nullable=False),
    Column("point_value", Numeric(12, 6), nullable=False, comment="Money value of one point (liability)"),
    Column("tier_basis", Text, nullable=False, comment="points | spend"),
    Column("tier_window_months", Integer, nullable=False),
    Column("tier_grace_days", Integer, nullable=False),
    Column("tiers", JSONB, nullable=False, comment="[{name, threshold, multiplier}]"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
    _updated(),
)

known_customers = Table(
    "known_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), primary_key=True),
    Column("state", Text, nullable=False, comment="active | merged | erased"),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

members = Table(
    "loyalty_members",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("card_number", Text, nullable=True, unique=True, comment="Null after erasure"),
    Column("status", Text, nullable=False, comment="active | left | merged | erased"),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Column("left_at", DateTime(timezone=True), nullable=True),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("birth_month", SmallInteger, nullable=True, comment="From the customer's birthday (personal data)"),
    Column("balance", Integer, nullable=False, server_default=text("0"), comment="= sum(loyalty_ledger.points)"),
    Column("debt", Integer, nullable=False, server_default=text("0")),
    Column("tier", Text, nullable=True),
    Column("tier_below_since", DateTime(timezone=True), nullable=True, comment="Grace period start"),
    Column("tier_evaluated_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
    _updated(),
    Index("ux_loyalty_members_programme_customer", "programme_id", "customer_id", unique=True),
    Index("ix_loyalty_members_customer", "customer_id"),
)

ledger = Table(
    "loyalty_ledger",
    metadata,
    Column("seq", BigInteger, Identity(always=True), primary_key=True),
    Column("id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("kind", Text, nullable=False, comment="earn | redeem | expire | reverse | adjust"),
    Column("points", Integer, nullable=False, comment="Signed: what the entry adds to the balance"),
    Column("rule", Text, nullable=True, comment="earn: purchase | welcome | order_bonus"),
    Column("order_id", UUID(as_uuid=True), nullable=True),
    Column("remaining", Integer, nullable=True, comment="Lots (earn, positive adjust): points not yet taken"),
    Column("spendable_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("debt", Integer, nullable=False, server_default=text("0"), comment="reverse: debt added; lot: settled"),
    Column("takes", JSONB, nullable=True, comment="[[lot_id, points]] taken from lots"),
    Column("reward_id", UUID(as_uuid=True), nullable=True),
    Column("coupon_id", UUID(as_uuid=True), nullable=True),
    Column("reason", Text, nullable=True),
    Column("actor", Text, nullable=True),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Index("ix_loyalty_ledger_member_seq", "member_id", "seq"),
    Index("ix_loyalty_ledger_open_lots", "member_id", postgresql_where=text("remaining > 0")),
    Index("ix_loyalty_ledger_expiring", "expires_at", postgresql_where=text("remaining > 0")),
    Index(
        "ux_loyalty_ledger_earn_per_order_rule",
        "order_id",
        "rule",
        unique=True,
        postgresql_where=text("kind = 'earn' AND order_id IS NOT NULL"),
    ),
)

orders = Table(
    "loyalty_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("member_id", UUID(as_uuid=True), nullable=False),
    Column("currency", Text, nullable=False),
    Column("paid_at", DateTime(timezone=True), nullable=False),
    Column("gross_amount", MONEY, nullable=False),
    Column("returned_amount", MONEY, nullable=False),
    Column("net_amount", MONEY, nullable=False),
    Column("cancelled", Boolean, nullable=False, server_default=text("false")),
    Column("points_earned", Integer, nullable=False),
    Column("points_reversed", Integer, nullable=False, server_default=text("0")),
    Column("snapshot_at", DateTime(timezone=True), nullable=False),
    Index("ix_loyalty_orders_member_paid", "member_id", "paid_at"),
)

offers = Table(
    "loyalty_offers",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("discount_kind", Text, nullable=False, comment="percentage | fixed_amount | free_product"),
    Column("discount_value", MONEY, nullable=False),
    Column("currency", Text, nullable=True),
    Column("applies_to", Text, nullable=False, comment="order | product | category"),
    Column("product_id", UUID(as_uuid=True), nullable=True),
    Column("category", Text, nullable=True),
    Column("minimum_order_value", MONEY, nullable=True),
    Column("valid_from", DateTime(timezone=True), nullable=True),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("audience", Text, nullable=False, comment="everyone | segment | tier"),
    Column("segment_id", UUID(as_uuid=True), nullable=True),
    Column("tier", Text, nullable=True),
    Column("combinable", Boolean, nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
)

rewards = Table(
    "loyalty_rewards",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("programme_id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("points_cost", Integer, nullable=False),
    Column("offer_id", UUID(as_uuid=True), nullable=False),
    Column("tier", Text, nullable=True, comment="Only members of this tier may redeem it"),
    Column("coupon_valid_days", Integer, nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    _created(),
)

coupons = Table(
    "loyalty_coupons",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column("offer_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=True, comment="Null: public"),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, server_default=text("0")),
    Column("status", Text, nullable=False, comment="active | revoked"),
    Column("source", Text, nullable=False, comment="bulk | reward | request"),
    Column("valid_from", DateTime(timezone=True), nullable=True),
    Column("valid_until", DateTime(timezone=True), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Index("ix_loyalty_coupons_customer", "customer_id", postgresql_where=text("customer_id IS NOT NULL")),
    Index("ix_loyalty_coupons_offer", "offer_id"),
)

coupon_uses = Table(
    "loyalty_coupon_uses",
    metadata,
    Column("coupon_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=True),
    PrimaryKeyConstraint("coupon_id", "order_id"),
)

segment_members = Table(
    "loyalty_segment_members",
    metadata,
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("segment_id", UUID(as_uuid=True), nullable=False),
    PrimaryKeyConstraint("customer_id", "segment_id"),
)
