"""Templates: allowed variables, unsafe constructs refused at save time, strict rendering, languages."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from relacja_engagement.domain.templating import check, pick_language, render


def test_a_template_with_known_variables_passes_and_renders() -> None:
    source = "Dear {{ customer.given_name }}, your code: {{ coupon_code }} ({{ event['order_number'] }})"
    assert check(source) == []
    text = render(source, {"customer": {"given_name": "Anna"}, "coupon_code": "X1", "event": {"order_number": "7"}})
    assert text == "Dear Anna, your code: X1 (7)"


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("Hi {{ nickname }}", "unknown variable: nickname"),
        ("Hi {{ customer.shoe_size }}", "unknown variable: customer.shoe_size"),
        ("{{ event['secret'] }}", "unknown variable: event['secret']"),
        ("{% include 'other' %}", "unsafe construct: include"),
        ("{{ coupon_code.__class__.__mro__ }}", "unsafe construct"),
        ("{{ customer.email.__class__ }}", "unsafe construct"),
        ("{% if %}", "syntax error"),
    ],
)
def test_what_is_refused_at_save_time(source: str, fragment: str) -> None:
    problems = check(source)
    assert problems and any(fragment in p.message for p in problems), problems


def test_loop_variables_of_the_template_itself_are_allowed() -> None:
    assert check("{% for c in [coupon_code] %}{{ c }}{% endfor %}") == []


def test_a_missing_value_at_send_time_is_an_error_not_a_blank() -> None:
    with pytest.raises(UndefinedError):
        render("Code {{ coupon_code }}", {"customer": {}})


def test_language_preference_then_primary_subtag_then_fallback() -> None:
    variants = {"pl": 1, "en": 2}
    assert pick_language(variants, "pl", "en") == "pl"
    assert pick_language(variants, "en-GB", "pl") == "en"
    assert pick_language(variants, "de", "en") == "en"
    assert pick_language(variants, None, "pl") == "pl"
