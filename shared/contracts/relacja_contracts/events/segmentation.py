"""Events produced by the segmentation service on ``relacja.segmentation``.

``CustomerSegmentChangedV1`` says that a customer moved in one of the three analytical
dimensions — RFM segment, ABC class or loyalty-matrix quadrant — with the value before
and after (``old`` is null the first time a customer is scored, ``new`` is null when a
customer drops out of scoring, e.g. after every purchase was cancelled).

``SegmentMemberAddedV1`` / ``SegmentMemberRemovedV1`` say that a customer entered or
left a marketer's rule-based segment (for campaigns and partner feeds). Keyed by the
customer, so all of one customer's changes stay in order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..base import EventPayload
from ..topics import SEGMENTATION

__all__ = ["CustomerSegmentChangedV1", "SegmentDimension", "SegmentMemberAddedV1", "SegmentMemberRemovedV1"]

SegmentDimension = Literal["rfm", "abc", "quadrant"]


class CustomerSegmentChangedV1(EventPayload):
    """A customer's RFM segment, ABC class or loyalty quadrant changed (old → new)."""

    event_type = "relacja.segmentation.customer_segment.changed.v1"
    topic = SEGMENTATION

    customer_id: UUID
    dimension: SegmentDimension
    old: str | None = Field(description="The value before (null: not scored before)")
    new: str | None = Field(description="The value after (null: no longer scored)")
    trigger: Literal["event", "recomputation"] = Field(
        description="An event about this customer, or a full recomputation (scores are relative)"
    )
    occurred_at: datetime


class _Membership(EventPayload):
    customer_id: UUID
    segment_id: UUID
    segment_name: str
    trigger: Literal["event", "recomputation", "segment_saved"] = Field(
        description="An event about this customer, a full recomputation, or the segment's rule being saved"
    )
    occurred_at: datetime


class SegmentMemberAddedV1(_Membership):
    """A customer entered a rule-based segment."""

    event_type = "relacja.segmentation.segment_member.added.v1"
    topic = SEGMENTATION


class SegmentMemberRemovedV1(_Membership):
    """A customer left a rule-based segment (no longer matches, erased, merged away, or the segment was deleted)."""

    event_type = "relacja.segmentation.segment_member.removed.v1"
    topic = SEGMENTATION
