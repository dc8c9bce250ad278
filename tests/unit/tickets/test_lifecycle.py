"""The ticket state machine and the reopen window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relacja_tickets.domain.lifecycle import TRANSITIONS, IllegalTransition, check_transition

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@pytest.mark.parametrize(
    ("source", "target"),
    [("new", "open"), ("new", "pending_customer"), ("new", "resolved"), ("open", "pending_customer"), ("open", "resolved"),
     ("pending_customer", "open"), ("pending_customer", "resolved"), ("resolved", "closed")],
)
def test_legal_transitions(source: str, target: str) -> None:
    transition = check_transition(source, target, resolved_at=NOW, now=NOW, reopen_window=WEEK)
    assert (transition.source, transition.target) == (source, target)
    assert not transition.is_reopen


@pytest.mark.parametrize(
    ("source", "target"),
    [("new", "new"), ("new", "closed"), ("open", "new"), ("open", "closed"), ("pending_customer", "closed"),
     ("resolved", "pending_customer"), ("resolved", "new"), ("closed", "open"), ("closed", "resolved"), ("closed", "closed")],
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
