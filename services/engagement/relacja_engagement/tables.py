"""Tables of the engagement service.

Written through the API:

    eng_templates      per-language subject and body (Jinja2 sandbox), channel, purpose
    eng_triggers       an event (or the ready-made ones), conditions, delay, channel, template,
                       actions (coupon from an offer, review request), holdout share
    eng_campaigns      a one-off send to a segment at a time, with a holdout share
    eng_policy         one row: quiet hours and the frequency caps per channel
    eng_suppressions   addresses never to be sent to (hard bounce, complaint, manual)

The message log:

    eng_messages       one row per (trigger occurrence | campaign) and customer: its state
                       (scheduled, deferred, suppressed, sent, failed, bounced, held_out), why,
                       when it is due, attempts, the coupon it carries; ``occurrence_key`` is
                       unique, so a trigger fires once per occurrence whatever is redelivered

Projections of other services' events:

    known_customers    relacja.customers: who exists, merges, erasure, plus the contact details
                       and profile fields the conditions and templates use (read through the
                       customers service when ``profile_fetched_at`` is null)
    eng_consents       relacja.customers: the current state of each marketing consent
    eng_segment_members relacja.segmentation: rule-based segment membership (campaign audiences)
    eng_orders         relacja.orders: orders for conversions and revenue (the uplift report)
    eng_coupon_redemptions relacja.loyalty: coupons used by an order (campaign results)

Reviews (part 6; app/reviews.py):

    eng_delivered_lines  relacja.orders (consumer ``engagement.reviews``): the products of each
                         delivered order, by customer — the verified-purchase check
    eng_review_requests  a tokenised link (only the token's SHA-256 is kept), for one delivered
                         order, expiring; spent once every product of it is reviewed
    eng_reviews          one rating 1–5 (+ comment) per request and product; pending, approved
                         or rejected by a moderator; personal data erased with the customer
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

__all__ = [
    "campaigns",
    "consents",
    "coupon_redemptions",
    "delivered_lines",
    "known_customers",
    "messages",
    "metadata",
    "orders",
    "policy",
    "review_requests",
    "reviews",
    "segment_members",
    "suppressions",
    "templates",
    "triggers",
]

metadata = MetaData()

known_customers = Table(
    "known_customers",
    metadata,
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("state", Text, nullable=False, comment="active | merged | erased"),
    Column("merged_into", UUID(as_uuid=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=text("now()")),
    Column("display_name", Text, nullable=True),
    Column("given_name", Text, nullable=True),
    Column("email", Text, nullable=True),
    Column("phone", Text, nullable=True),
    Column("preferred_language", Text, nullable=True),
    Column("country", Text, nullable=True, comment="ISO 3166-1 alpha-2 of the first address: the time zone"),
    Column("lifecycle_stage", Text, nullable=True),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'::text[]")),
    Column("loyalty_tier", Text, nullable=True),
    Column("churn_risk_tier", Text, nullable=True),
    Column(
        "profile_fetched_at",
        DateTime(timezone=True),
        nullable=True,
        comment="When the contact details were read from the customers service; null: read them before sending",
    ),
    PrimaryKeyConstraint("customer_id"),
)

consents = Table(
    "eng_consents",
    metadata,
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("purpose", Text, nullable=False, comment="email_marketing | sms_marketing | phone_marketing"),
    Column("granted", Boolean, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("customer_id", "purpose"),
)

segment_members = Table(
    "eng_segment_members",
    metadata,
    Column("segment_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("segment_name", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("segment_id", "customer_id"),
    Index("ix_eng_segment_members_customer", "customer_id"),
)

orders = Table(
    "eng_orders",
    metadata,
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("currency", Text, nullable=False),
    Column("total_amount", Numeric(18, 2), nullable=False),
    Column("cancelled", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("order_id"),
    Index("ix_eng_orders_customer_placed", "customer_id", "placed_at"),
)

coupon_redemptions = Table(
    "eng_coupon_redemptions",
    metadata,
    Column("coupon_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("redeemed_at", DateTime(timezone=True), nullable=False),
    Column("released", Boolean, nullable=False, server_default=text("false")),
    PrimaryKeyConstraint("coupon_id", "order_id"),
)

templates = Table(
    "eng_templates",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("channel", Text, nullable=False, comment="email | sms | push"),
    Column("purpose", Text, nullable=False, comment="marketing | transactional"),
    Column("fallback_language", Text, nullable=False),
    Column("variants", JSONB, nullable=False, comment='{"<language>": {"subject": ..., "body": ...}}'),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id"),
)

triggers = Table(
    "eng_triggers",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("ready_made", Text, nullable=True, comment="The ready-made trigger this row is (seeded disabled)"),
    Column("event", Text, nullable=False, comment="important_date.upcoming | order.delivered | ..."),
    Column("conditions", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("delay_seconds", Integer, nullable=False, server_default=text("0")),
    Column("channel", Text, nullable=False),
    Column("template_id", UUID(as_uuid=True), nullable=True, comment="Null on a ready-made trigger until one is set"),
    Column("coupon_offer_id", UUID(as_uuid=True), nullable=True),
    Column("request_review", Boolean, nullable=False, server_default=text("false")),
    Column("holdout_percent", Numeric(5, 2), nullable=False, server_default=text("0")),
    Column("enabled", Boolean, nullable=False, server_default=text("false")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("ready_made", name="uq_eng_triggers_ready_made"),
    Index("ix_eng_triggers_event", "event", postgresql_where=text("enabled")),
)

campaigns = Table(
    "eng_campaigns",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    Column("segment_id", UUID(as_uuid=True), nullable=False),
    Column("template_id", UUID(as_uuid=True), nullable=False),
    Column("channel", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("coupon_offer_id", UUID(as_uuid=True), nullable=True),
    Column("holdout_percent", Numeric(5, 2), nullable=False),
    Column("send_at", DateTime(timezone=True), nullable=False),
    Column("currency", Text, nullable=False, comment="Revenue in the uplift report counts orders in this currency"),
    Column("status", Text, nullable=False, comment="planned | cancelled"),
    Column("audience_size", Integer, nullable=False, server_default=text("0")),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id"),
)

policy = Table(
    "eng_policy",
    metadata,
    Column("id", Integer, nullable=False, comment="Always 1: one policy for the service"),
    Column("quiet_hours_start", Time, nullable=True, comment="Local time; null: no quiet hours"),
    Column("quiet_hours_end", Time, nullable=True),
    Column("caps", JSONB, nullable=False, comment='[{"channel": "email", "max_messages": 2, "window_days": 7}]'),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id"),
)

suppressions = Table(
    "eng_suppressions",
    metadata,
    Column("channel", Text, nullable=False, comment="email | sms | push"),
    Column("address", Text, nullable=False, comment="Lower-case e-mail address or E.164 phone"),
    Column("reason", Text, nullable=False, comment="hard_bounce | complaint | manual"),
    Column("customer_id", UUID(as_uuid=True), nullable=True),
    Column("note", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("channel", "address"),
)

messages = Table(
    "eng_messages",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("channel", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("template_id", UUID(as_uuid=True), nullable=True),
    Column("trigger_id", UUID(as_uuid=True), nullable=True),
    Column("campaign_id", UUID(as_uuid=True), nullable=True),
    Column("occurrence_key", Text, nullable=False, comment="Unique: one message per trigger occurrence or campaign"),
    Column(
        "status",
        Text,
        nullable=False,
        comment="scheduled | deferred | suppressed | sent | failed | bounced | held_out",
    ),
    Column("reason", Text, nullable=True, comment="Why suppressed, deferred, failed or bounced"),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("last_error", Text, nullable=True),
    Column("context", JSONB, nullable=False, server_default=text("'{}'::jsonb"), comment="The event's variables"),
    Column("coupon_id", UUID(as_uuid=True), nullable=True),
    Column("coupon_code", Text, nullable=True),
    Column("address", Text, nullable=True, comment="Where it was sent (for bounces)"),
    Column("provider_message_id", Text, nullable=True, comment="The Message-ID header or the webhook id"),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("occurrence_key", name="uq_eng_messages_occurrence"),
    Index("ix_eng_messages_due", "due_at", postgresql_where=text("status IN ('scheduled', 'deferred')")),
    Index("ix_eng_messages_customer", "customer_id", "created_at"),
    Index("ix_eng_messages_campaign", "campaign_id", postgresql_where=text("campaign_id IS NOT NULL")),
    Index("ix_eng_messages_trigger", "trigger_id", postgresql_where=text("trigger_id IS NOT NULL")),
    Index("ix_eng_messages_sent", "customer_id", "channel", "sent_at", postgresql_where=text("sent_at IS NOT NULL")),
    Index(
        "ix_eng_messages_provider_id", "provider_message_id", postgresql_where=text("provider_message_id IS NOT NULL")
    ),
)


# -- reviews (part 6) -------------------------------------------------------------------

delivered_lines = Table(
    "eng_delivered_lines",
    metadata,
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("product_id", UUID(as_uuid=True), nullable=False),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("order_id", "product_id"),
    Index("ix_eng_delivered_lines_customer_product", "customer_id", "product_id"),
)

review_requests = Table(
    "eng_review_requests",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("token_hash", Text, nullable=False, comment="SHA-256 of the link's token; the token itself is not kept"),
    Column("customer_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column(
        "product_ids",
        ARRAY(UUID(as_uuid=True)),
        nullable=False,
        server_default=text("'{}'::uuid[]"),
        comment="The products it asks about; empty: every product of the delivered order",
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True), nullable=True, comment="When its last product was reviewed"),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("token_hash", name="uq_eng_review_requests_token"),
    Index("ix_eng_review_requests_customer", "customer_id"),
)

reviews = Table(
    "eng_reviews",
    metadata,
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("request_id", UUID(as_uuid=True), nullable=True, comment="Null once the customer is erased"),
    Column("customer_id", UUID(as_uuid=True), nullable=True, comment="Null once the customer is erased"),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("product_id", UUID(as_uuid=True), nullable=False),
    Column("rating", Integer, nullable=False),
    Column("comment", Text, nullable=True),
    Column("reviewer_name", Text, nullable=True, comment="The name the customer chose to show"),
    Column("verified_purchase", Boolean, nullable=False),
    Column("status", Text, nullable=False, comment="pending | approved | rejected"),
    Column("rejection_reason", Text, nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("moderated_at", DateTime(timezone=True), nullable=True),
    Column("erased_at", DateTime(timezone=True), nullable=True, comment="When the reviewer's personal data went"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("id"),
    UniqueConstraint("request_id", "product_id", name="uq_eng_reviews_request_product"),
    Index("ix_eng_reviews_product", "product_id", "status", "submitted_at", "id"),
    Index("ix_eng_reviews_status", "status", "submitted_at", "id"),
    Index("ix_eng_reviews_customer", "customer_id", postgresql_where=text("customer_id IS NOT NULL")),
)
