"""Opaque cursors: round trip, tamper and cross-sort rejection."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from relacja_servicekit import Problem
from relacja_servicekit.pagination import decode_cursor, encode_cursor


def test_cursor_round_trips_typed_sort_keys() -> None:
    keys = [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), uuid.uuid4(), 42, "x"]
    assert decode_cursor(encode_cursor(keys, "-created_at"), sort="-created_at", arity=4) == keys


def test_cursor_is_url_safe_and_unpadded() -> None:
    cursor = encode_cursor([uuid.uuid4()], "s")
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor


@pytest.mark.parametrize("cursor", ["not-base64!!", "e30", "W10", encode_cursor([1], "x")[:-3] + "@@@"])
def test_malformed_cursor_is_a_400_problem(cursor: str) -> None:
    with pytest.raises(Problem) as raised:
        decode_cursor(cursor, sort="x", arity=1)
    assert raised.value.status == 400


def test_cursor_of_another_sort_order_is_rejected() -> None:
    with pytest.raises(Problem):
        decode_cursor(encode_cursor([1, 2], "created_at"), sort="-created_at", arity=2)


def test_cursor_with_wrong_number_of_keys_is_rejected() -> None:
    with pytest.raises(Problem):
        decode_cursor(encode_cursor([1], "s"), sort="s", arity=2)
