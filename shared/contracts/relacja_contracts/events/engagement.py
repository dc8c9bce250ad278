"""Events produced by the engagement service on ``relacja.engagement``.

    MessageSentV1     a message went out to the customer (e-mail, SMS or push): the customers
                      service records it on the customer's timeline as an outbound interaction
    MessageBouncedV1  a sent message bounced or drew a complaint; its address is suppressed
    ReviewSubmittedV1 a customer rated a product they bought, through a review request's link
    ReviewApprovedV1  a moderator approved a review: it is now public (a review without a
                      comment is approved as it is submitted)

The messages' content stays in the engagement service; the events name the message, its
channel and what sent it (a trigger or a campaign). The Kafka key is the customer id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import ENGAGEMENT

__all__ = [
    "MessageBouncedV1",
    "MessageChannel",
    "MessagePurpose",
    "MessageSentV1",
    "ReviewApprovedV1",
    "ReviewSubmittedV1",
]

MessageChannel = Literal["email", "sms", "push"]
MessagePurpose = Literal["marketing", "transactional"]


class MessageSentV1(EventPayload):
    """A message was handed to the e-mail server or the SMS / push provider."""

    event_type = "relacja.engagement.message.sent.v1"
    topic = ENGAGEMENT

    customer_id: UUID
    message_id: UUID
    channel: MessageChannel
    purpose: MessagePurpose
    trigger_id: UUID | None = Field(default=None, description="The trigger that sent it (null: a campaign)")
    campaign_id: UUID | None = Field(default=None, description="The campaign that sent it (null: a trigger)")
    template_id: UUID | None = None
    sent_at: datetime


class MessageBouncedV1(EventPayload):
    """A sent message bounced (hard) or the recipient complained; the address is now suppressed."""

    event_type = "relacja.engagement.message.bounced.v1"
    topic = ENGAGEMENT

    customer_id: UUID
    message_id: UUID
    channel: MessageChannel
    kind: Literal["hard_bounce", "soft_bounce", "complaint"]
    occurred_at: datetime


class ReviewSubmittedV1(EventPayload):
    """A customer rated a product (1–5, with or without a comment) through a review request.

    The comment itself stays in the engagement service (it waits for moderation and is
    erased with the customer); the event says whether there is one."""

    event_type = "relacja.engagement.review.submitted.v1"
    topic = ENGAGEMENT

    customer_id: UUID
    review_id: UUID
    product_id: UUID
    order_id: UUID = Field(description="The delivered order the review request was for")
    rating: int = Field(ge=1, le=5)
    has_comment: bool
    verified_purchase: bool = Field(description="The customer's delivered orders include the product")
    submitted_at: datetime


class ReviewApprovedV1(EventPayload):
    """A review became public: approved by a moderator, or at once when it has no comment."""

    event_type = "relacja.engagement.review.approved.v1"
    topic = ENGAGEMENT

    customer_id: UUID
    review_id: UUID
    product_id: UUID
    rating: int = Field(ge=1, le=5)
    approved_at: datetime
