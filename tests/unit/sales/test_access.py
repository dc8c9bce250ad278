"""Record-level access: a rep sees their own records, a team lead the team's, a manager all."""

from __future__ import annotations

import pytest

from relacja_sales.domain.access import Caller, Visibility, can_see, role_from_claims, visibility

REP_A = Caller("rep-a", "rep", "north")
REP_B = Caller("rep-b", "rep", "north")
LEAD_NORTH = Caller("lead-n", "team_lead", "north")
LEAD_NO_TEAM = Caller("lead-x", "team_lead", None)
MANAGER = Caller("boss", "manager", None)


@pytest.mark.parametrize(
    ("caller", "owner", "team", "sees"),
    [
        (REP_A, "rep-a", "north", True),
        (REP_A, "rep-b", "north", False),  # same team, another rep's record: not for a rep
        (REP_B, "rep-a", "north", False),
        (REP_A, "rep-a", None, True),
        (LEAD_NORTH, "rep-a", "north", True),
        (LEAD_NORTH, "rep-z", "south", False),
        (LEAD_NORTH, "lead-n", "south", True),  # their own record in another team
        (LEAD_NORTH, None, None, False),
        (LEAD_NO_TEAM, "rep-a", None, False),  # no team: only their own
        (LEAD_NO_TEAM, "lead-x", None, True),
        (MANAGER, "rep-a", "north", True),
        (MANAGER, None, None, True),
    ],
)
def test_who_sees_what(caller: Caller, owner: str | None, team: str | None, sees: bool) -> None:
    assert can_see(caller, owner, team) is sees


def test_visibility_is_the_rule_as_data() -> None:
    assert visibility(MANAGER) == Visibility(everything=True)
    assert visibility(LEAD_NORTH) == Visibility(everything=False, owner_id="lead-n", team="north")
    assert visibility(REP_A) == Visibility(everything=False, owner_id="rep-a")
    assert visibility(LEAD_NO_TEAM) == Visibility(everything=False, owner_id="lead-x")


def test_the_strongest_role_of_the_token_counts() -> None:
    assert role_from_claims([]) == "rep"
    assert role_from_claims(["support_agent"]) == "rep"
    assert role_from_claims(["sales_team_lead"]) == "team_lead"
    assert role_from_claims(["sales_team_lead", "sales_manager"]) == "manager"
