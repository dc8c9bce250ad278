"""Request bodies refuse what their schema refuses; card numbers carry a Luhn check digit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from relacja_loyalty.app.schemas import AdjustmentCreate, OfferCreate, ProgrammeCreate
from relacja_loyalty.domain.cards import luhn_valid, new_card_number


@pytest.mark.parametrize("points", [0, 1.5, "5", True, 100_000_001])
def test_adjustment_points_are_non_zero_json_integers(points: object) -> None:
    with pytest.raises(ValidationError):
        AdjustmentCreate.model_validate({"points": points, "reason": "x"})


def test_adjustment_needs_a_reason_with_text() -> None:
    for body in ({"points": 5}, {"points": 5, "reason": ""}, {"points": 5, "reason": "  "}):
        with pytest.raises(ValidationError):
            AdjustmentCreate.model_validate(body)
    assert AdjustmentCreate.model_validate({"points": -5, "reason": "correction"}).points == -5


def test_money_and_rates_are_decimal_strings() -> None:
    with pytest.raises(ValidationError):
        OfferCreate.model_validate({"name": "x", "discount_kind": "percentage", "discount_value": 10})
    with pytest.raises(ValidationError):
        ProgrammeCreate.model_validate({"name": "x", "currency": "PLN", "points_per_unit": "1e3"})
    assert ProgrammeCreate.model_validate({"name": "x", "currency": "PLN", "points_per_unit": "1.5"}).tiers == []


def test_card_numbers_are_16_digits_with_a_luhn_check_digit() -> None:
    numbers = {new_card_number() for _ in range(500)}
    assert len(numbers) == 500
    assert all(len(n) == 16 and luhn_valid(n) for n in numbers)
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    number = new_card_number()
    swapped = number[:3] + number[4] + number[3] + number[5:]
    assert number[3] == number[4] or not luhn_valid(swapped)
