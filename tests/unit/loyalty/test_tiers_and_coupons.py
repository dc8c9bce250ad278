"""Tier evaluation (upgrade, requalification, grace before a downgrade) and coupon rules."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from relacja_loyalty.domain.coupons import ALPHABET, OfferProblem, check_offer, new_code, normalise_code
from relacja_loyalty.domain.tiers import Tier, TierState, evaluate_tier, progress, qualifying_tier

TIERS = [Tier("gold", Decimal(1000), Decimal(2)), Tier("silver", Decimal(300), Decimal("1.25"))]
NOW = datetime(2026, 6, 1, tzinfo=UTC)
GRACE = timedelta(days=30)


def test_qualifying_tier_is_the_highest_threshold_reached() -> None:
    assert qualifying_tier(TIERS, Decimal(299)) is None
    assert qualifying_tier(TIERS, Decimal(300)) == TIERS[1]
    assert qualifying_tier(TIERS, Decimal(5000)) == TIERS[0]


def test_upgrade_at_once_and_downgrade_only_after_the_grace_period() -> None:
    state = evaluate_tier(TIERS, TierState(None), Decimal(1200), NOW, GRACE)
    assert state == TierState("gold")
    state = evaluate_tier(TIERS, state, Decimal(500), NOW, GRACE)
    assert state == TierState("gold", NOW)  # grace starts
    assert evaluate_tier(TIERS, state, Decimal(500), NOW + GRACE - timedelta(seconds=1), GRACE) == state
    assert evaluate_tier(TIERS, state, Decimal(500), NOW + GRACE, GRACE) == TierState("silver")


def test_requalifying_during_grace_ends_it() -> None:
    assert evaluate_tier(TIERS, TierState("gold", NOW), Decimal(1000), NOW + timedelta(days=3), GRACE) == TierState(
        "gold"
    )


def test_evaluation_is_deterministic() -> None:
    state = TierState("silver", NOW - timedelta(days=40))
    assert {evaluate_tier(TIERS, state, Decimal(10), NOW, GRACE) for _ in range(5)} == {TierState(None)}


def test_progress_names_the_next_tier_and_the_gap() -> None:
    assert progress(TIERS, None, Decimal(100)).missing == Decimal(200)
    assert progress(TIERS, "silver", Decimal(400)).next_tier == "gold"
    assert progress(TIERS, "gold", Decimal(400)).next_tier is None


def test_codes_are_grouped_and_use_no_ambiguous_characters() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        groups = code.split("-")
        assert [len(g) for g in groups] == [4, 4, 4]
        assert set("".join(groups)) <= set(ALPHABET)
    assert not set("0O1IL") & set(ALPHABET)
    assert normalise_code("k7qm4xta93hp") == "K7QM-4XTA-93HP"


def _offer(**changes):
    offer = {
        "discount_kind": "percentage",
        "discount_value": Decimal(10),
        "currency": None,
        "applies_to": "order",
        "product_id": None,
        "category": None,
        "valid_from": None,
        "valid_until": None,
        "audience": "everyone",
        "segment_id": None,
        "tier": None,
    }
    return offer | changes


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"discount_value": Decimal("100.01")}, "discount_value"),
        ({"discount_value": Decimal(0)}, "discount_value"),
        ({"discount_kind": "fixed_amount"}, "currency"),
        ({"discount_kind": "free_product"}, "product_id"),
        ({"applies_to": "category"}, "category"),
        ({"valid_from": NOW, "valid_until": NOW}, "valid_until"),
        ({"audience": "tier"}, "tier"),
        ({"audience": "segment"}, "segment_id"),
    ],
)
def test_offer_rules_name_the_field(changes, field) -> None:
    with pytest.raises(OfferProblem) as caught:
        check_offer(**_offer(**changes))
    assert caught.value.field == field


def test_a_valid_offer_passes() -> None:
    check_offer(**_offer(discount_kind="fixed_amount", currency="PLN", applies_to="product", product_id=uuid.uuid4()))
