"""Normalisation rules of the customer master."""

from __future__ import annotations

import pytest

from relacja_customers.domain.contact import normalize_display_name, normalize_email


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [("Anna@Example.COM", "anna@example.com"), ("  bob@x.pl ", "bob@x.pl"), ("", None), (None, None), ("   ", None)],
)
def test_normalize_email(raw: str | None, normalised: str | None) -> None:
    assert normalize_email(raw) == normalised


def test_display_name_folds_white_space_and_composes_unicode() -> None:
    assert normalize_display_name("  Zo\u0301fia   \t Nowak ") == "Zófia Nowak"
