"""Aggregate reports over an agreement's customers: counts by segment, RFM group or region.

The agreement's customers are those its feed received (``sharing_recipients``), not
erased, and — under a consent basis — still consenting to one of its purposes. Groups
below the agreement's ``min_group_size`` are suppressed (``domain.reports.suppress``).
A customer without a value (not yet scored, no known region) counts in ``unknown``.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.reports import suppress
from .errors import FeedGone, PartnerUnavailable
from .schemas import Report, ReportGroup

__all__ = ["Dimension", "report"]

Dimension = Literal["segment", "rfm", "region"]

_GROUP = {
    "rfm": "coalesce(s.rfm_segment, 'unknown')",
    "region": "coalesce(s.region, 'unknown')",
    "segment": "coalesce(m.segment_name, 'none')",
}

_COUNT = """
SELECT {group} AS grp, count(DISTINCT r.customer_id) AS n
  FROM sharing_recipients r
  JOIN sharing_agreements a ON a.id = r.agreement_id
  LEFT JOIN sharing_customers s ON s.customer_id = r.customer_id
  LEFT JOIN sharing_segment_members m ON m.customer_id = r.customer_id
 WHERE r.agreement_id = :agreement AND (s.erased_at IS NULL)
   AND (a.legal_basis <> 'consent' OR EXISTS (
        SELECT 1 FROM sharing_consents c WHERE c.customer_id = r.customer_id AND c.partner_id = a.partner_id::text
           AND c.granted AND a.purposes ? c.partner_purpose))
 GROUP BY 1
"""


async def report(session: AsyncSession, agreement: Row[Any], dimension: Dimension) -> Report:
    if agreement.status == "terminated":
        raise FeedGone(agreement.id)
    if agreement.status != "active":
        raise PartnerUnavailable("agreement", agreement.status)
    rows = await session.execute(text(_COUNT.format(group=_GROUP[dimension])), {"agreement": agreement.id})
    groups = suppress({row.grp: int(row.n) for row in rows}, agreement.min_group_size)
    return Report(
        agreement_id=agreement.id,
        dimension=dimension,
        min_group_size=agreement.min_group_size,
        groups=[ReportGroup(group=g.name, count=g.count, suppressed=g.suppressed) for g in groups],
    )
