"""Triggers: which events they name, the conditions they check, once-per-occurrence keys.

An event of another service becomes an :class:`Occurrence` (the consumer builds it from the
payload): the trigger kind it can fire, the customer, what makes this occurrence the same
one when it is announced again (``occurrence``: this year's birthday, this order), the
attributes the event-level conditions look at and the variables it gives the templates.
A trigger fires when :func:`matches` holds for the occurrence and the customer's
:class:`Profile`; the message's ``occurrence_key`` (:func:`occurrence_key`) is unique in
the message log, so a trigger fires at most once per occurrence whatever is redelivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

__all__ = [
    "CONDITION_NAMES",
    "EVENT_CONDITIONS",
    "Conditions",
    "Occurrence",
    "Profile",
    "TriggerEvent",
    "due_at",
    "matches",
    "occurrence_key",
]


class TriggerEvent(StrEnum):
    """What a trigger can name (each maps to one event type of another service)."""

    IMPORTANT_DATE_UPCOMING = "important_date.upcoming"
    ORDER_PAID = "order.paid"
    ORDER_DELIVERED = "order.delivered"
    SEGMENT_MEMBER_ADDED = "segment.member_added"
    CHURN_RISK_TIER_CHANGED = "churn.risk_tier_changed"
    LOYALTY_TIER_CHANGED = "loyalty.tier_changed"
    TICKET_RESOLVED = "ticket.resolved"


@dataclass(frozen=True)
class Conditions:
    """Optional conditions; an empty list means "any". All given conditions must hold.

    Event-level: ``important_date_kinds`` (birthday, name_day, ...), ``risk_tiers`` (the
    churn tier it changed to), ``loyalty_tiers_to`` (the loyalty tier it changed to),
    ``first_order`` (order events: only the customer's first order).
    Customer-level: ``segment_ids`` (member of any of them), ``loyalty_tiers`` (current
    tier), ``lifecycle_stages``, ``tags_any`` (the profile carries one of the tags).
    """

    segment_ids: tuple[UUID, ...] = ()
    loyalty_tiers: tuple[str, ...] = ()
    lifecycle_stages: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    important_date_kinds: tuple[str, ...] = ()
    risk_tiers: tuple[str, ...] = ()
    loyalty_tiers_to: tuple[str, ...] = ()
    first_order: bool = False

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Conditions:
        return cls(
            segment_ids=tuple(UUID(str(s)) for s in data.get("segment_ids", ())),
            loyalty_tiers=tuple(data.get("loyalty_tiers", ())),
            lifecycle_stages=tuple(data.get("lifecycle_stages", ())),
            tags_any=tuple(data.get("tags_any", ())),
            important_date_kinds=tuple(data.get("important_date_kinds", ())),
            risk_tiers=tuple(data.get("risk_tiers", ())),
            loyalty_tiers_to=tuple(data.get("loyalty_tiers_to", ())),
            first_order=bool(data.get("first_order", False)),
        )


CONDITION_NAMES = frozenset(Conditions.__dataclass_fields__)

# Which event-level condition applies to which trigger event (a condition on another event is refused).
EVENT_CONDITIONS: Mapping[str, frozenset[TriggerEvent]] = {
    "important_date_kinds": frozenset({TriggerEvent.IMPORTANT_DATE_UPCOMING}),
    "risk_tiers": frozenset({TriggerEvent.CHURN_RISK_TIER_CHANGED}),
    "loyalty_tiers_to": frozenset({TriggerEvent.LOYALTY_TIER_CHANGED}),
    "first_order": frozenset({TriggerEvent.ORDER_PAID, TriggerEvent.ORDER_DELIVERED}),
}


@dataclass(frozen=True)
class Occurrence:
    event: TriggerEvent
    customer_id: UUID
    occurrence: str  # what makes two announcements the same occurrence
    occurred_at: datetime
    attributes: Mapping[str, Any] = field(default_factory=dict)  # for the event-level conditions
    context: Mapping[str, Any] = field(default_factory=dict)  # the templates' ``event`` variables


@dataclass(frozen=True)
class Profile:
    """What the customer-level conditions look at (the service's projection of the customer)."""

    state: str = "active"
    segment_ids: frozenset[UUID] = frozenset()
    loyalty_tier: str | None = None
    lifecycle_stage: str | None = None
    tags: frozenset[str] = frozenset()
    earlier_orders: int = 0  # orders placed before this occurrence's order


def _any(required: Sequence[Any], actual: Any) -> bool:
    return not required or actual in required


def matches(conditions: Conditions, occurrence: Occurrence, profile: Profile) -> bool:
    """Whether a trigger with these conditions fires for this occurrence and customer."""
    if profile.state != "active":
        return False
    attrs = occurrence.attributes
    if conditions.important_date_kinds and attrs.get("kind") not in conditions.important_date_kinds:
        return False
    if conditions.risk_tiers and attrs.get("risk_tier") not in conditions.risk_tiers:
        return False
    if conditions.loyalty_tiers_to and attrs.get("tier") not in conditions.loyalty_tiers_to:
        return False
    if conditions.first_order and profile.earlier_orders > 0:
        return False
    if conditions.segment_ids and not profile.segment_ids.intersection(conditions.segment_ids):
        return False
    if not _any(conditions.loyalty_tiers, profile.loyalty_tier):
        return False
    if not _any(conditions.lifecycle_stages, profile.lifecycle_stage):
        return False
    return not conditions.tags_any or bool(profile.tags.intersection(conditions.tags_any))


def occurrence_key(trigger_id: UUID, occurrence: Occurrence, conditions: Conditions) -> str:
    """The message's unique key: one message per trigger, customer and occurrence.

    A first-order trigger fires once per customer ever, whatever order it sees first.
    """
    what = "first_order" if conditions.first_order else occurrence.occurrence
    return f"t:{trigger_id}:{occurrence.customer_id}:{what}"


def due_at(occurrence: Occurrence, delay_seconds: int, now: datetime) -> datetime:
    """When the message is due: the delay after the event, never in the past."""
    return max(now, occurrence.occurred_at + timedelta(seconds=delay_seconds))
