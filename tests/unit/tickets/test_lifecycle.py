"""The ticket state machine and the reopen window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relacja_tickets.domain.lifecycle import (
    ACTIONS,
    TRANSITIONS,
    IllegalTransition,
    allowed_actions,
    check_action,
    check_transition,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("new", "open"),
        ("new", "pending_customer"),
        ("new", "resolved"),
        ("open", "pending_customer"),
        ("open", "resolved"),
        ("pending_customer", "open"),
        ("pending_customer", "resolved"),
        ("resolved", "closed"),
    ],
)
def test_legal_transitions(source: str, target: str) -> None:
    transition = check_transition(source, target, resolved_at=NOW, now=NOW, reopen_window=WEEK)
    assert (transition.source, transition.target) == (source, target)
    assert not transition.is_reopen


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("new", "new"),
        ("new", "closed"),
        ("open", "new"),
        ("open", "closed"),
        ("pending_customer", "closed"),
        ("resolved", "pending_customer"),
        ("resolved", "new"),
        ("closed", "open"),
        ("closed", "resolved"),
        ("closed", "closed"),
    ],
)
def test_illegal_transitions(source: str, target: str) -> None:
    with pytest.raises(IllegalTransition) as error:
        check_transition(source, target, resolved_at=NOW, now=NOW, reopen_window=WEEK)
    assert error.value.reason == "illegal-transition" and source in error.value.detail


def test_reopen_within_the_window() -> None:
    transition = check_transition("resolved", "open", resolved_at=NOW - WEEK, now=NOW, reopen_window=WEEK)
    assert transition.is_reopen and not transition.resumes


def test_reopen_after_the_window_is_refused() -> None:
    with pytest.raises(IllegalTransition) as error:
        check_transition("resolved", "open", resolved_at=NOW - WEEK - timedelta(seconds=1), now=NOW, reopen_window=WEEK)
    assert error.value.reason == "reopen-window-passed"


def test_pause_and_resume_flags() -> None:
    assert check_transition("open", "pending_customer", resolved_at=None, now=NOW, reopen_window=WEEK).pauses
    assert check_transition("pending_customer", "open", resolved_at=None, now=NOW, reopen_window=WEEK).resumes
    assert not check_transition("new", "open", resolved_at=None, now=NOW, reopen_window=WEEK).resumes


def test_closed_is_final() -> None:
    assert TRANSITIONS["closed"] == frozenset()


def test_actions_cover_exactly_the_transitions() -> None:
    from_actions = {(source, target) for moves in ACTIONS.values() for source, target in moves.items()}
    from_transitions = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert from_actions == from_transitions


def test_allowed_actions() -> None:
    assert allowed_actions("new") == ["start", "wait", "resolve"]
    assert allowed_actions("resolved") == ["close", "reopen"]
    assert allowed_actions("closed") == []


def test_an_illegal_action_names_the_status_and_the_allowed_actions() -> None:
    with pytest.raises(IllegalTransition) as error:
        check_action("close", "open", resolved_at=None, now=NOW, reopen_window=WEEK)
    assert error.value.reason == "illegal-transition"
    assert (error.value.current_status, error.value.action, error.value.allowed_actions) == (
        "open",
        "close",
        ["wait", "resolve"],
    )
    assert "wait, resolve" in error.value.detail


def test_reopen_action_keeps_the_window() -> None:
    assert check_action("reopen", "resolved", resolved_at=NOW - WEEK, now=NOW, reopen_window=WEEK).is_reopen
    with pytest.raises(IllegalTransition) as error:
        check_action("reopen", "resolved", resolved_at=NOW - WEEK - timedelta(seconds=1), now=NOW, reopen_window=WEEK)
    assert error.value.reason == "reopen-window-passed" and error.value.allowed_actions == ["close", "reopen"]


@pytest.mark.parametrize(
    ("action", "source", "target"),
    [
        ("start", "new", "open"),
        ("wait", "open", "pending_customer"),
        ("resume", "pending_customer", "open"),
        ("resolve", "new", "resolved"),
    ],
)
def test_action_targets(action: str, source: str, target: str) -> None:
    assert check_action(action, source, resolved_at=None, now=NOW, reopen_window=WEEK).target == target  # type: ignore[arg-type]  # parametrized as str
