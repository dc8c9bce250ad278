"""Pure rules of the sharing service: identifiers, keys, the agreement's terms and states, suppression."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relacja_sharing.domain.agreements import NEVER_SHARED, check_terms, next_agreement_status
from relacja_sharing.domain.identifiers import (
    hash_secret,
    new_api_key,
    new_pads,
    parse_api_key,
    pseudonym,
    secret_matches,
)
from relacja_sharing.domain.partners import next_partner_status
from relacja_sharing.domain.reports import suppress
from relacja_sharing.domain.states import IllegalTransition


def test_pseudonym_is_rfc2104_hmac_sha256() -> None:
    key = bytes(range(32))
    customer = uuid.uuid4()
    expected = hmac.new(key, str(customer).encode(), hashlib.sha256).digest()
    assert pseudonym(new_pads(key), customer) == base64.urlsafe_b64encode(expected).decode().rstrip("=")
    assert len(pseudonym(new_pads(key), customer)) == 43


def test_two_partners_get_unrelated_pseudonyms() -> None:
    customer = uuid.uuid4()
    first, second = new_pads(), new_pads()
    assert pseudonym(first, customer) != pseudonym(second, customer)
    assert pseudonym(first, customer) == pseudonym(first, customer)


def test_api_key_round_trip_and_refusals() -> None:
    key = new_api_key()
    assert key.text.startswith("rpk_")
    assert parse_api_key(key.text) == key
    assert secret_matches(key.secret, hash_secret(key.secret))
    assert not secret_matches(key.secret + "x", hash_secret(key.secret))
    for bad in ("", "rpk_", key.text + "x", key.text.replace("rpk_", "rk_"), "Bearer " + key.text):
        assert parse_api_key(bad) is None


def test_agreement_state_machine() -> None:
    assert next_agreement_status("draft", "activate") == "active"
    assert next_agreement_status("active", "suspend") == "suspended"
    assert next_agreement_status("suspended", "resume") == "active"
    assert next_agreement_status("suspended", "terminate") == "terminated"
    with pytest.raises(IllegalTransition) as refused:
        next_agreement_status("terminated", "activate")
    assert refused.value.current == "terminated" and refused.value.allowed_actions == []
    with pytest.raises(IllegalTransition) as refused:
        next_agreement_status("draft", "resume")
    assert refused.value.allowed_actions == ["activate", "terminate"]


def test_partner_status() -> None:
    assert next_partner_status("active", "suspend") == "suspended"
    with pytest.raises(IllegalTransition):
        next_partner_status("active", "resume")


def test_terms_refuse_unknown_types_fields_ids_and_bad_windows() -> None:
    catalog = {"relacja.orders.order.placed.v1": frozenset({"order_id", "total_amount"})}
    now = datetime.now(UTC)
    assert check_terms({"relacja.orders.order.placed.v1": ["total_amount"]}, catalog, now, None) == []
    errors = check_terms(
        {"relacja.orders.order.placed.v1": ["customer_id", "nope"], "x.y": ["a"]}, catalog, now, now - timedelta(1)
    )
    messages = " ".join(e["message"] for e in errors)
    assert "never shared" in messages and "no field nope" in messages and "not an event type" in messages
    assert any(e["field"] == "body.valid_until" for e in errors)
    assert {"customer_id", "company_id", "merged_customer_id"} <= NEVER_SHARED


def test_small_groups_are_suppressed_with_their_complement() -> None:
    groups = {g.name: g.count for g in suppress({"a": 100, "b": 60, "c": 3}, 50)}
    # c alone would be the partner's total minus a and b: b (the smallest shown) goes too.
    assert groups == {"a": 100, "b": None, "c": None}
    assert {g.name: g.count for g in suppress({"a": 100, "b": 60}, 50)} == {"a": 100, "b": 60}
    assert {g.name: g.count for g in suppress({"a": 1, "b": 2}, 50)} == {"a": None, "b": None}


@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers(min_value=0, max_value=500)), st.integers(2, 200))
def test_no_suppressed_count_is_ever_shown_or_derivable(counts: dict[str, int], min_size: int) -> None:
    groups = suppress(counts, min_size)
    shown = [g for g in groups if not g.suppressed]
    assert all(g.count is not None and g.count >= min_size for g in shown)
    hidden = [g for g in groups if g.suppressed]
    # never exactly one hidden group while others are shown (it would be total − shown)
    assert len(hidden) != 1 or not shown
