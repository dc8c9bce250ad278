"""Campaigns: a one-off send to a segment, planned in one set-based statement, and its results.

Planning is one ``INSERT ... SELECT`` over the segment's members: the holdout draw (the
same md5 bucket as ``domain/holdout.py``), the customer's state, the suppression list
and the marketing consent are applied in the statement, so every member gets one row —
``held_out``, ``suppressed`` (with the reason) or ``scheduled`` for ``send_at``. The
send-time checks run again when the message is due (``sending.py``): consent withdrawn
or a cap reached in between still stops it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import paginate

from ..domain.decision import CONSENT_PURPOSE
from ..domain.holdout import threshold
from ..domain.uplift import GroupStats, uplift
from ..tables import campaigns, messages, segment_members
from .errors import IllegalTransition, InvalidField, NotFound
from .schemas import CampaignIn, CampaignPublic, CampaignResults, CampaignsPublic, GroupResult, IntervalPublic
from .templates import template_row

__all__ = [
    "PLAN_SQL",
    "RESULT_WINDOW_DAYS",
    "cancel_campaign",
    "campaign_results",
    "create_campaign",
    "get_campaign",
    "list_campaigns",
    "plan",
]

RESULT_WINDOW_DAYS = 30

PLAN_SQL = text(
    """
    WITH audience AS (
        SELECT sm.customer_id,
               k.state,
               c.granted,
               s.reason AS suppression,
               ('x' || substr(md5(CAST(:campaign_id AS text) || ':' || sm.customer_id::text), 1, 8))::bit(32)::bigint
                   % 10000 AS bucket
        FROM eng_segment_members sm
        LEFT JOIN known_customers k ON k.customer_id = sm.customer_id
        LEFT JOIN eng_consents c ON c.customer_id = sm.customer_id AND c.purpose = :consent_purpose
        LEFT JOIN eng_suppressions s
               ON s.channel = :channel
              AND s.address = CASE WHEN :channel = 'email' THEN k.email ELSE k.phone END
        WHERE sm.segment_id = :segment_id
    ), judged AS (
        SELECT customer_id,
               CASE
                   WHEN bucket < :threshold THEN NULL
                   WHEN state IN ('erased', 'merged') THEN 'customer_gone'
                   WHEN suppression IS NOT NULL THEN 'suppressed_address'
                   WHEN :marketing AND granted IS NULL THEN 'no_consent'
                   WHEN :marketing AND NOT granted THEN 'consent_withdrawn'
               END AS reason,
               bucket < :threshold AS held_out
        FROM audience
    )
    INSERT INTO eng_messages (id, customer_id, channel, purpose, template_id, campaign_id, occurrence_key,
                              status, reason, due_at, created_at, updated_at)
    SELECT gen_random_uuid(), customer_id, :channel, :purpose, :template_id, CAST(:campaign_id AS uuid),
           'c:' || CAST(:campaign_id AS text) || ':' || customer_id::text,
           CASE WHEN held_out THEN 'held_out' WHEN reason IS NOT NULL THEN 'suppressed' ELSE 'scheduled' END,
           reason, :send_at, now(), now()
    FROM judged
    ON CONFLICT (occurrence_key) DO NOTHING
    """
)


async def plan(
    session: AsyncSession,
    *,
    campaign_id: uuid.UUID,
    segment_id: uuid.UUID,
    template_id: uuid.UUID,
    channel: str,
    purpose: str,
    holdout_percent: Decimal,
    send_at: datetime,
) -> int:
    """Plan the campaign's messages in one statement; the number of rows written."""
    result = await session.execute(
        PLAN_SQL,
        {
            "campaign_id": str(campaign_id),
            "segment_id": segment_id,
            "template_id": template_id,
            "channel": channel,
            "purpose": purpose,
            "marketing": purpose == "marketing",
            "consent_purpose": CONSENT_PURPOSE[channel],
            "threshold": threshold(holdout_percent),
            "send_at": send_at,
        },
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def _by_status(session: AsyncSession, campaign_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(
        select(messages.c.status, func.count()).where(messages.c.campaign_id == campaign_id).group_by(messages.c.status)
    )
    return dict(rows.tuples().all())


async def _public(session: AsyncSession, row: Any) -> CampaignPublic:
    return CampaignPublic(
        **{
            name: getattr(row, name)
            for name in CampaignPublic.model_fields
            if name not in {"planned", "holdout_percent"}
        },
        holdout_percent=str(Decimal(row.holdout_percent).normalize()),
        planned=await _by_status(session, row.id),
    )


async def create_campaign(session: AsyncSession, body: CampaignIn) -> CampaignPublic:
    try:
        template = await template_row(session, body.template_id)
    except NotFound:
        raise InvalidField("template_id", "No template with this id.", type_="unknown-template") from None
    has_members = (
        await session.execute(
            select(segment_members.c.customer_id).where(segment_members.c.segment_id == body.segment_id).limit(1)
        )
    ).first()
    if has_members is None:
        raise InvalidField(
            "segment_id", "The segment is unknown to this service or has no members.", type_="empty-or-unknown-segment"
        )
    now = datetime.now(UTC)
    campaign_id = uuid.uuid4()
    send_at = body.send_at or now
    await session.execute(
        campaigns.insert().values(
            id=campaign_id,
            name=body.name,
            segment_id=body.segment_id,
            template_id=body.template_id,
            channel=template.channel,
            purpose=template.purpose,
            coupon_offer_id=body.coupon_offer_id,
            holdout_percent=body.holdout_percent,
            send_at=send_at,
            currency=body.currency,
            status="planned",
            version=1,
            created_at=now,
            updated_at=now,
        )
    )
    size = await plan(
        session,
        campaign_id=campaign_id,
        segment_id=body.segment_id,
        template_id=body.template_id,
        channel=template.channel,
        purpose=template.purpose,
        holdout_percent=body.holdout_percent,
        send_at=send_at,
    )
    row = (
        await session.execute(
            campaigns.update().where(campaigns.c.id == campaign_id).values(audience_size=size).returning(*campaigns.c)
        )
    ).one()
    return await _public(session, row)


async def campaign_row(session: AsyncSession, campaign_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = select(campaigns).where(campaigns.c.id == campaign_id)
    row = (await session.execute(query.with_for_update() if lock else query)).one_or_none()
    if row is None:
        raise NotFound("Campaign", campaign_id)
    return row


async def get_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> CampaignPublic:
    return await _public(session, await campaign_row(session, campaign_id))


async def list_campaigns(session: AsyncSession, *, limit: int, cursor: str | None) -> CampaignsPublic:
    page = await paginate(
        session,
        select(campaigns),
        keys=[campaigns.c.created_at, campaigns.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=lambda row: row,
    )
    return CampaignsPublic(items=[await _public(session, row) for row in page.items], next_cursor=page.next_cursor)


async def cancel_campaign(session: AsyncSession, campaign_id: uuid.UUID) -> CampaignPublic:
    row = await campaign_row(session, campaign_id, lock=True)
    if row.status != "planned":
        raise IllegalTransition("campaign", "cancel", row.status, [])
    now = datetime.now(UTC)
    await session.execute(
        messages.update()
        .where(messages.c.campaign_id == campaign_id, messages.c.status.in_(("scheduled", "deferred")))
        .values(status="suppressed", reason="campaign_cancelled", updated_at=now)
    )
    updated = (
        await session.execute(
            campaigns.update()
            .where(campaigns.c.id == campaign_id)
            .values(status="cancelled", version=campaigns.c.version + 1, updated_at=now)
            .returning(*campaigns.c)
        )
    ).one()
    return await _public(session, updated)


_GROUPS_SQL = text(
    """
    WITH per_customer AS (
        SELECT m.customer_id,
               m.status = 'held_out' AS control,
               COALESCE(SUM(o.total_amount), 0) AS revenue,
               COUNT(o.order_id) AS orders
        FROM eng_messages m
        LEFT JOIN eng_orders o
               ON o.customer_id = m.customer_id AND NOT o.cancelled AND o.currency = :currency
              AND o.placed_at >= :window_start AND o.placed_at < :window_end
        WHERE m.campaign_id = :campaign_id
        GROUP BY m.customer_id, m.status
    )
    SELECT control, COUNT(*) AS n, COUNT(*) FILTER (WHERE orders > 0) AS converted,
           COALESCE(SUM(revenue), 0) AS revenue, COALESCE(SUM(revenue * revenue), 0) AS revenue_sq
    FROM per_customer GROUP BY control
    """
)

_COUPONS_SQL = text(
    """
    SELECT COUNT(*) FILTER (WHERE m.coupon_id IS NOT NULL) AS issued,
           COUNT(*) FILTER (WHERE EXISTS (
               SELECT 1 FROM eng_coupon_redemptions r WHERE r.coupon_id = m.coupon_id AND NOT r.released)) AS redeemed
    FROM eng_messages m WHERE m.campaign_id = :campaign_id
    """
)


def _group(stats: GroupStats) -> GroupResult:
    return GroupResult(
        customers=stats.n,
        converted=stats.conversions,
        conversion_rate=stats.conversion_rate,
        revenue=str(stats.revenue_sum),
        revenue_per_customer=stats.revenue_per_customer,
    )


async def campaign_results(session: AsyncSession, campaign_id: uuid.UUID) -> CampaignResults:
    row = await campaign_row(session, campaign_id)
    by_status = await _by_status(session, campaign_id)
    reasons = await session.execute(
        select(messages.c.reason, func.count())
        .where(messages.c.campaign_id == campaign_id, messages.c.status == "suppressed")
        .group_by(messages.c.reason)
    )
    window_end = row.send_at + timedelta(days=RESULT_WINDOW_DAYS)
    groups = {
        g.control: GroupStats(
            n=g.n, conversions=g.converted, revenue_sum=Decimal(g.revenue), revenue_sum_sq=Decimal(g.revenue_sq)
        )
        for g in (
            await session.execute(
                _GROUPS_SQL,
                {
                    "campaign_id": campaign_id,
                    "currency": row.currency,
                    "window_start": row.send_at,
                    "window_end": window_end,
                },
            )
        ).all()
    }
    empty = GroupStats(0, 0, Decimal(0), Decimal(0))
    treated, control = groups.get(False, empty), groups.get(True, empty)
    result = uplift(treated, control)
    coupons = (await session.execute(_COUPONS_SQL, {"campaign_id": campaign_id})).one()
    return CampaignResults(
        campaign_id=campaign_id,
        by_status=by_status,
        suppressed_by_reason={reason or "unknown": count for reason, count in reasons.all()},
        deferred_now=by_status.get("deferred", 0),
        coupons_issued=coupons.issued,
        coupons_redeemed=coupons.redeemed,
        window_days=RESULT_WINDOW_DAYS,
        window_ends_at=window_end,
        treated=_group(treated),
        control=_group(control),
        confidence=result.confidence,
        conversion_uplift=IntervalPublic(**vars(result.conversion)) if result.conversion else None,
        revenue_per_customer_uplift=(
            IntervalPublic(**vars(result.revenue_per_customer)) if result.revenue_per_customer else None
        ),
    )
