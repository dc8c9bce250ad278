"""Trigger matching, conditions and the once-per-occurrence keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from relacja_engagement.domain.triggers import (
    Conditions,
    Occurrence,
    Profile,
    TriggerEvent,
    due_at,
    matches,
    occurrence_key,
)

CUSTOMER = UUID("00000000-0000-0000-0000-0000000000c1")
TRIGGER = UUID("00000000-0000-0000-0000-0000000000f1")
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


def birthday(year: int = 2026, kind: str = "birthday") -> Occurrence:
    return Occurrence(
        TriggerEvent.IMPORTANT_DATE_UPCOMING,
        CUSTOMER,
        occurrence=f"{kind}:{year}",
        occurred_at=NOW,
        attributes={"kind": kind},
    )


def test_no_conditions_match_any_active_customer_and_never_an_erased_one() -> None:
    assert matches(Conditions(), birthday(), Profile())
    assert not matches(Conditions(), birthday(), Profile(state="erased"))


def test_event_level_conditions() -> None:
    only_birthdays = Conditions(important_date_kinds=("birthday",))
    assert matches(only_birthdays, birthday(), Profile())
    assert not matches(only_birthdays, birthday(kind="name_day"), Profile())
    high = Conditions(risk_tiers=("high",))
    churn = Occurrence(TriggerEvent.CHURN_RISK_TIER_CHANGED, CUSTOMER, "high:2026-12-05", NOW, {"risk_tier": "high"})
    assert matches(high, churn, Profile())
    assert not matches(high, replace_attrs(churn, risk_tier="medium"), Profile())


def replace_attrs(occurrence: Occurrence, **attributes: str) -> Occurrence:
    return Occurrence(
        occurrence.event, occurrence.customer_id, occurrence.occurrence, occurrence.occurred_at, attributes
    )


def test_customer_level_conditions_all_must_hold() -> None:
    segment = uuid4()
    conditions = Conditions(
        segment_ids=(segment,), loyalty_tiers=("gold",), lifecycle_stages=("customer",), tags_any=("vip", "b2b")
    )
    fits = Profile(
        segment_ids=frozenset({segment}), loyalty_tier="gold", lifecycle_stage="customer", tags=frozenset({"vip"})
    )
    assert matches(conditions, birthday(), fits)
    assert not matches(
        conditions,
        birthday(),
        Profile(
            segment_ids=frozenset({uuid4()}), loyalty_tier="gold", lifecycle_stage="customer", tags=frozenset({"vip"})
        ),
    )
    assert not matches(
        conditions,
        birthday(),
        Profile(
            segment_ids=frozenset({segment}), loyalty_tier="silver", lifecycle_stage="customer", tags=frozenset({"vip"})
        ),
    )
    assert not matches(
        conditions,
        birthday(),
        Profile(segment_ids=frozenset({segment}), loyalty_tier="gold", lifecycle_stage="lead", tags=frozenset({"vip"})),
    )
    assert not matches(
        conditions,
        birthday(),
        Profile(segment_ids=frozenset({segment}), loyalty_tier="gold", lifecycle_stage="customer"),
    )


def test_first_order_only_fires_without_earlier_orders() -> None:
    order = Occurrence(TriggerEvent.ORDER_PAID, CUSTOMER, str(uuid4()), NOW)
    assert matches(Conditions(first_order=True), order, Profile(earlier_orders=0))
    assert not matches(Conditions(first_order=True), order, Profile(earlier_orders=1))


def test_one_birthday_message_per_customer_per_year() -> None:
    conditions = Conditions(important_date_kinds=("birthday",))
    this_year = occurrence_key(TRIGGER, birthday(2026), conditions)
    assert this_year == occurrence_key(TRIGGER, birthday(2026), conditions)  # announced again: same key
    assert this_year != occurrence_key(TRIGGER, birthday(2027), conditions)
    assert this_year != occurrence_key(uuid4(), birthday(2026), conditions)  # another trigger fires too


def test_a_first_order_trigger_has_one_key_per_customer_whatever_the_order() -> None:
    conditions = Conditions(first_order=True)
    one = Occurrence(TriggerEvent.ORDER_PAID, CUSTOMER, str(uuid4()), NOW)
    other = Occurrence(TriggerEvent.ORDER_PAID, CUSTOMER, str(uuid4()), NOW)
    assert occurrence_key(TRIGGER, one, conditions) == occurrence_key(TRIGGER, other, conditions)
    assert occurrence_key(TRIGGER, one, Conditions()) != occurrence_key(TRIGGER, other, Conditions())


def test_due_is_the_delay_after_the_event_and_never_in_the_past() -> None:
    delivered = Occurrence(TriggerEvent.ORDER_DELIVERED, CUSTOMER, "o", NOW - timedelta(days=10))
    assert due_at(delivered, 7 * 86400, NOW) == NOW
    assert due_at(delivered, 14 * 86400, NOW) == NOW + timedelta(days=4)


def test_conditions_from_json() -> None:
    segment = uuid4()
    parsed = Conditions.from_json({"segment_ids": [str(segment)], "first_order": True, "risk_tiers": ["high"]})
    assert parsed == Conditions(segment_ids=(segment,), first_order=True, risk_tiers=("high",))
