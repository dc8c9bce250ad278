"""Normalisation and validation of contact data (pure)."""

from __future__ import annotations

import pytest

from relacja_customers.domain.contact import normalize_country, normalize_language, normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("600 123 456", "PL", "+48600123456"),
        ("+48 600-123-456", "DE", "+48600123456"),
        ("0048600123456", "PL", "+48600123456"),
        ("030 1234567", "DE", "+49301234567"),
        ("(202) 555-0143", "US", "+12025550143"),
    ],
)
def test_phone_numbers_are_stored_in_e164(raw: str, region: str, e164: str) -> None:
    assert normalize_phone(raw, region) == e164


@pytest.mark.parametrize("raw", ["12", "hello", "+48 123", "600 123 45", "+999 600 123 456"])
def test_impossible_phone_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw, "PL")


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("pl", "pl"),
        ("EN-gb", "en-GB"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("pl_PL", "pl-PL"),
        ("es-419", "es-419"),
        ("de-CH-1996", "de-CH-1996"),
        ("en-US-x-twain", "en-US-x-twain"),
    ],
)
def test_language_tags_are_bcp47_in_canonical_case(raw: str, tag: str) -> None:
    assert normalize_language(raw) == tag


@pytest.mark.parametrize("raw", ["a", "english!", "en--gb", "123", "en-gb-"])
def test_malformed_language_tags_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_language(raw)


def test_countries_are_iso_3166_alpha_2() -> None:
    assert normalize_country("pl") == "PL"
    for bad in ("XX", "UK", "POL", "EU"):
        with pytest.raises(ValueError):
            normalize_country(bad)
