"""The order status machine and the return decisions: what an illegal move names."""

from __future__ import annotations

import pytest

from relacja_orders.domain.states import (
    IllegalTransition,
    allowed_actions,
    check_returnable,
    decided_status,
    next_status,
)


@pytest.mark.parametrize(
    ("status", "actions"),
    [
        ("placed", ["pay", "cancel"]),
        ("paid", ["fulfill", "cancel"]),
        ("fulfilled", ["deliver"]),
        ("delivered", ["return"]),
        ("cancelled", []),
    ],
)
def test_allowed_actions_per_status(status: str, actions: list[str]) -> None:
    assert allowed_actions(status) == actions


def test_an_illegal_move_names_the_current_status_and_what_is_allowed() -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_status("deliver", "placed")
    err = raised.value
    assert (err.action, err.current, err.allowed_actions) == ("deliver", "placed", ["pay", "cancel"])
    assert (
        str(err)
        == "Cannot deliver an order that is placed; deliver is allowed from: fulfilled. Allowed now: pay, cancel."
    )


def test_a_cancelled_order_allows_nothing() -> None:
    with pytest.raises(IllegalTransition) as raised:
        next_status("pay", "cancelled")
    assert raised.value.allowed_actions == [] and str(raised.value).endswith("Allowed now: none.")


def test_only_a_delivered_order_takes_returns() -> None:
    check_returnable("delivered")
    with pytest.raises(IllegalTransition) as raised:
        check_returnable("paid")
    assert (raised.value.action, raised.value.current, raised.value.allowed_actions) == (
        "return",
        "paid",
        ["fulfill", "cancel"],
    )


@pytest.mark.parametrize(("decision", "target"), [("accept", "accepted"), ("reject", "rejected")])
def test_a_request_awaiting_a_decision_can_be_decided(decision: str, target: str) -> None:
    assert decided_status(decision, "requested") == target  # type: ignore[arg-type]  # the Literal from a parameter


@pytest.mark.parametrize("decided", ["accepted", "rejected"])
def test_a_decided_request_cannot_be_decided_again(decided: str) -> None:
    with pytest.raises(IllegalTransition) as raised:
        decided_status("accept", decided)
    err = raised.value
    assert (err.what, err.current, err.allowed_actions) == ("return request", decided, [])
    assert str(err).startswith(f"Cannot accept a return request that is {decided}")
