"""The customer record's rules: merge patch, display names, search keys, lifecycle, merge, erasure (pure)."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from relacja_customers.domain.customer import (
    apply_changes,
    changed_fields,
    check_fields,
    derived_columns,
    fold,
    like_pattern,
    search_tokens,
)
from relacja_customers.domain.duplicates import duplicate_score
from relacja_customers.domain.lifecycle import STAGES, Trigger, can_move, more_advanced, stage_after
from relacja_customers.domain.merge import merge_changes, merged_fields
from relacja_customers.domain.privacy import erased_fields, scrub_payload


def person(**fields: object) -> dict:
    return apply_changes("person", {}, {"lifecycle_stage": "lead", **fields})


# -- display name and merge patch ----------------------------------------------------------


def test_display_name_is_derived_from_the_names_unless_given() -> None:
    assert person(given_name="Anna", family_name="Kowalska")["display_name"] == "Anna Kowalska"
    assert person(given_name="Anna", display_name="Ania K.")["display_name"] == "Ania K."
    company = apply_changes("company", {}, {"legal_name": "Acme  Sp. z o.o.", "lifecycle_stage": "lead"})
    assert company["display_name"] == "Acme Sp. z o.o."


def test_a_derived_display_name_follows_the_names_and_a_chosen_one_stays() -> None:
    derived = person(given_name="Anna", family_name="Kowalska")
    assert apply_changes("person", derived, {"family_name": "Nowak"})["display_name"] == "Anna Nowak"
    chosen = person(given_name="Anna", family_name="Kowalska", display_name="Ania")
    assert apply_changes("person", chosen, {"family_name": "Nowak"})["display_name"] == "Ania"
    assert apply_changes("person", chosen, {"display_name": None})["display_name"] == "Anna Kowalska"


def test_null_clears_a_field_and_empties_lists() -> None:
    before = person(given_name="Anna", email="a@x.pl", tags=["vip"], addresses=[{"type": "home"}])
    after = apply_changes("person", before, {"email": None, "tags": None, "addresses": None})
    assert after["email"] is None and after["tags"] == [] and after["addresses"] == []
    assert changed_fields(before, after) == ["email", "addresses", "tags"]


def test_custom_attributes_are_merged_by_name() -> None:
    before = person(
        given_name="A",
        custom_attributes={"vip": {"type": "boolean", "value": True}, "score": {"type": "number", "value": 1}},
    )
    after = apply_changes(
        "person",
        before,
        {
            "custom_attributes": {
                "vip": None,
                "score": {"type": "number", "value": 2},
                "x": {"type": "string", "value": "y"},
            }
        },
    )
    assert after["custom_attributes"] == {
        "score": {"type": "number", "value": 2},
        "x": {"type": "string", "value": "y"},
    }


def test_tags_are_deduplicated_and_sorted() -> None:
    assert person(given_name="A", tags=["b", "a", "b"])["tags"] == ["a", "b"]


def test_nothing_changed_means_no_changed_fields() -> None:
    before = person(given_name="Anna", tags=["a"])
    assert changed_fields(before, apply_changes("person", before, {"given_name": "Anna", "tags": ["a"]})) == []


def test_cross_field_rules() -> None:
    assert check_fields("person", person(given_name="A")) == []
    errors = check_fields(
        "company", {"display_name": "", "given_name": "A", "birth_date": date(1990, 1, 1), "lifecycle_stage": "lead"}
    )
    assert {e["field"] for e in errors} == {"given_name", "birth_date", "display_name"}
    assert [
        e["field"] for e in check_fields("person", {"display_name": "A", "legal_name": "X", "lifecycle_stage": "lead"})
    ] == ["legal_name"]
    assert [e["field"] for e in check_fields("person", {"display_name": "A", "lifecycle_stage": None})] == [
        "lifecycle_stage"
    ]


# -- search and duplicate keys ------------------------------------------------------------


def test_fold_removes_case_and_diacritics() -> None:
    assert fold("  Łukasz   ŻÓŁĆ Straße ") == "lukasz zolc strasse"


def test_search_text_holds_names_email_and_phone_digits() -> None:
    keys = derived_columns(
        person(given_name="Zofia", family_name="Łęcka", email="Zofia@Example.com", phone="+48600123456")
    )
    assert keys["email_normalized"] == "zofia@example.com"
    assert keys["name_key"] == "zofia lecka"
    assert keys["search_text"] == "zofia lecka zofia lecka zofia@example.com 48600123456"


@pytest.mark.parametrize(
    ("q", "tokens"),
    [
        ("Kowal", ["kowal"]),
        ("anna KOWAL anna", ["anna", "kowal"]),
        ("+48 600 123", ["48600123"]),
        ("600-123-456", ["600123456"]),
        ("Łęck", ["leck"]),
        ("an", []),
        ("a b c", []),
        ("ab kowal", ["ab", "kowal"]),
    ],
)
def test_search_tokens(q: str, tokens: list[str]) -> None:
    assert search_tokens(q) == tokens


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_a\\b") == "%50\\%\\_a\\\\b%"


def test_duplicate_score() -> None:
    assert duplicate_score(same_email=True, same_phone=False, name_similarity=0.1) == (1.0, ["email"])
    assert duplicate_score(same_email=False, same_phone=True, name_similarity=0.9) == (1.0, ["phone", "name"])
    assert duplicate_score(same_email=False, same_phone=False, name_similarity=0.72) == (0.72, ["name"])
    assert duplicate_score(same_email=False, same_phone=False, name_similarity=0.59) == (0.0, [])


# -- lifecycle ----------------------------------------------------------------------------


def test_lifecycle_moves() -> None:
    assert can_move("lead", "prospect") and can_move("lead", "customer") and can_move("prospect", "customer")
    assert can_move("customer", "inactive") and can_move("inactive", "customer") and can_move("inactive", "prospect")
    assert (
        not can_move("customer", "lead") and not can_move("customer", "prospect") and not can_move("prospect", "lead")
    )
    assert all(can_move(stage, stage) for stage in STAGES)


def test_every_stage_but_the_entry_one_is_reachable_within_two_moves() -> None:
    for start in STAGES:
        reachable = {b for b in STAGES if can_move(start, b)}
        reachable |= {c for b in reachable for c in STAGES if can_move(b, c)}
        assert reachable - {start} == set(STAGES) - {"lead", start}, start


def test_automatic_moves() -> None:
    assert [stage_after(s, "order_placed") for s in STAGES] == ["customer"] * 4
    assert [stage_after(s, "inactivity_detected") for s in STAGES] == ["lead", "prospect", "inactive", "inactive"]
    # A converted lead is qualified; a customer who moved on meanwhile stays where it is.
    assert [stage_after(s, "lead_converted") for s in STAGES] == ["prospect", "prospect", "customer", "inactive"]
    triggers: tuple[Trigger, ...] = ("order_placed", "inactivity_detected", "lead_converted")
    assert all(can_move(s, stage_after(s, t)) for s in STAGES for t in triggers)


def test_more_advanced_stage() -> None:
    assert more_advanced("lead", "customer") == "customer"
    assert more_advanced("inactive", "prospect") == "inactive"
    assert more_advanced("customer", "inactive") == "customer"


# -- merge ----------------------------------------------------------------------------------


def test_merge_fills_empty_fields_and_unions_lists() -> None:
    company = uuid.uuid4()
    survivor = person(
        given_name="Anna",
        family_name="Kowalska",
        email="a@x.pl",
        tags=["b"],
        addresses=[{"type": "home", "city": "A"}],
        custom_attributes={"vip": {"type": "boolean", "value": True}},
    )
    other = person(
        given_name="Annа",
        family_name="K",
        email="other@x.pl",
        phone="+48600123456",
        company_id=company,
        tags=["a", "b"],
        addresses=[{"type": "home", "city": "A"}, {"type": "office", "city": "B"}],
        lifecycle_stage="customer",
        custom_attributes={"vip": {"type": "boolean", "value": False}, "score": {"type": "number", "value": 3}},
    )
    changes = merge_changes(survivor, other)
    assert set(changes) == {"phone", "company_id", "tags", "addresses", "custom_attributes", "lifecycle_stage"}
    merged = merged_fields("person", survivor, other)
    assert merged["email"] == "a@x.pl" and merged["given_name"] == "Anna" and merged["phone"] == "+48600123456"
    assert merged["tags"] == ["a", "b"]
    assert merged["addresses"] == [{"type": "home", "city": "A"}, {"type": "office", "city": "B"}]
    assert merged["custom_attributes"]["vip"]["value"] is True and merged["custom_attributes"]["score"]["value"] == 3
    assert merged["lifecycle_stage"] == "customer" and merged["company_id"] == company


def test_merge_derives_the_display_name_when_names_are_filled() -> None:
    survivor = person(email="a@x.pl", display_name=None, given_name="Anna")
    merged = merged_fields("person", survivor, person(family_name="Nowak"))
    assert merged["display_name"] == "Anna Nowak"


def test_merging_an_identical_record_changes_nothing() -> None:
    record = person(given_name="Anna", tags=["a"])
    assert merge_changes(record, record) == {}


# -- erasure ------------------------------------------------------------------------------


def test_erasure_removes_personal_fields_and_keeps_aggregates() -> None:
    record = person(
        given_name="Anna",
        family_name="K",
        email="a@x.pl",
        phone="+48600123456",
        birth_date=date(1990, 1, 1),
        tags=["vip"],
        owner_id="agent-1",
        external_id="E1",
        custom_attributes={"a": {"type": "string", "value": "x"}},
        lifecycle_stage="customer",
    )
    erased = erased_fields(record)
    assert erased["display_name"] == "erased" and erased["given_name"] == "erased" and erased["family_name"] == "erased"
    assert erased["legal_name"] is None
    for name in ("email", "phone", "birth_date", "external_id", "preferred_language", "company_id"):
        assert erased[name] is None
    assert erased["addresses"] == [] and erased["custom_attributes"] == {}
    assert erased["tags"] == ["vip"] and erased["lifecycle_stage"] == "customer" and erased["owner_id"] == "agent-1"
    assert check_fields("person", erased) == []


def test_scrub_payload_replaces_only_personal_keys_present() -> None:
    payload = {"customer_id": "c", "display_name": "Anna", "email": "a@x.pl", "lifecycle_stage": "lead", "tags": ["x"]}
    assert scrub_payload(payload) == {
        "customer_id": "c",
        "display_name": "erased",
        "email": None,
        "lifecycle_stage": "lead",
        "tags": ["x"],
    }
    assert scrub_payload({"customer_id": "c"}) == {"customer_id": "c"}


def test_scrub_payload_clears_the_label_of_an_upcoming_important_date() -> None:
    payload = {"customer_id": "c", "kind": "birthday", "label": "Anna's birthday", "occurs_on": "2026-12-01"}
    assert scrub_payload(payload) == {"customer_id": "c", "kind": "birthday", "label": None, "occurs_on": "2026-12-01"}
