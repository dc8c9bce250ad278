"""Topic names: one topic per producing service and aggregate family.

Every topic a service produces to or consumes from is named here and nowhere else. The
local broker auto-creates any topic a client names, so a typo would silently make a new
topic; importing the constant instead makes a typo an ImportError.

Keys are customer ids, so all events of one customer land in one partition, in order.
The partition count is part of the contract: changing it re-maps keys to partitions,
so it only grows with a planned migration.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Topic",
    "CUSTOMERS",
    "ORDERS",
    "TICKETS",
    "SEGMENTATION",
    "CHURN",
    "LOYALTY",
    "RECOMMENDATIONS",
    "SHARING",
    "SALES",
    "ENGAGEMENT",
    "ALL_TOPICS",
    "dead_letter_topic",
]

DEAD_LETTER_SUFFIX = ".dlq"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int = 6
    description: str = ""

    @property
    def dead_letter(self) -> Topic:
        return Topic(
            name=dead_letter_topic(self.name),
            partitions=1,
            description=f"Dead letters of {self.name}: events a consumer could not apply, with the error in headers.",
        )


def dead_letter_topic(topic_name: str) -> str:
    return f"{topic_name}{DEAD_LETTER_SUFFIX}"


CUSTOMERS = Topic("relacja.customers", description="Customer master data: registration, changes, merges, erasure.")

ORDERS = Topic(
    "relacja.orders", description="Orders through their life: placed, paid, fulfilled, delivered, cancelled, returned."
)
TICKETS = Topic(
    "relacja.tickets", description="Support tickets and complaints, SLA breaches, satisfaction survey answers."
)
SEGMENTATION = Topic(
    "relacja.segmentation",
    description="Segment changes (RFM, ABC, loyalty quadrant) and rule-based segment membership.",
)
CHURN = Topic("relacja.churn", description="Churn risk tier changes of customers.")
SHARING = Topic(
    "relacja.sharing",
    description="Data-sharing with partner companies: agreements, webhook endpoints, partner contributions.",
)
LOYALTY = Topic(
    "relacja.loyalty",
    description="Loyalty programmes: membership, the points ledger, tiers, coupons issued, redeemed and released.",
)

RECOMMENDATIONS = Topic(
    "relacja.recommendations", description="A customer's product suggestions (cross-sell) after they changed."
)

SALES = Topic(
    "relacja.sales",
    description="Sales: opportunities created, moved, won and lost; leads converted; activities logged and due.",
)

ENGAGEMENT = Topic(
    "relacja.engagement",
    description="Engagement: messages sent to customers (outbound interactions), reviews submitted and approved.",
)

ALL_TOPICS: tuple[Topic, ...] = (
    CUSTOMERS,
    ORDERS,
    TICKETS,
    SEGMENTATION,
    CHURN,
    SHARING,
    LOYALTY,
    RECOMMENDATIONS,
    SALES,
    ENGAGEMENT,
)
