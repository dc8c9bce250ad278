"""The tickets API's request models accept exactly what their schema says."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from relacja_tickets.api.schemas import CommentCreate, Integer, SlaRuleModel, TicketUpdate, WorkingHours

_INTEGER = TypeAdapter(Integer)
_COMMENT = TypeAdapter(CommentCreate)


@pytest.mark.parametrize("text", ["2", "2.0"])
def test_integer_takes_json_integers(text: str) -> None:
    assert _INTEGER.validate_json(text) == 2


@pytest.mark.parametrize("text", ['"2"', "true", "2.5", "null"])
def test_integer_refuses_text_booleans_and_fractions(text: str) -> None:
    with pytest.raises(ValidationError):
        _INTEGER.validate_json(text)


def test_rule_minutes_are_integers() -> None:
    with pytest.raises(ValidationError):
        SlaRuleModel.model_validate_json('{"first_response_minutes": "30", "resolution_minutes": 60}')
    assert (
        SlaRuleModel.model_validate_json(
            '{"first_response_minutes": 30.0, "resolution_minutes": 60}'
        ).first_response_minutes
        == 30
    )


def test_working_hours_pairs_list_working_days_only() -> None:
    hours = WorkingHours.model_validate({"monday": [{"start": "09:00", "end": "17:00"}], "sunday": []})
    assert hours.as_pairs() == {"monday": [("09:00", "17:00")]}


@pytest.mark.parametrize(
    "body",
    [
        {"Monday": [{"start": "09:00", "end": "17:00"}]},  # weekday names are lowercase
        {"monday": [{"start": "24:00", "end": "24:00"}]},  # a start is at most 23:59
        {"monday": [{"start": "09:00", "end": "24:01"}]},
        {"monday": [{"start": "9:00", "end": "17:00"}]},
    ],
)
def test_working_hours_refuse_what_the_schema_refuses(body: dict) -> None:
    with pytest.raises(ValidationError):
        WorkingHours.model_validate(body)


def test_ticket_update_absent_is_unchanged_null_is_refused_where_it_cannot_clear() -> None:
    assert TicketUpdate.model_validate({"team": None}).model_dump(exclude_unset=True) == {"team": None}
    for field in ("type", "channel", "priority", "subject", "tags"):
        with pytest.raises(ValidationError):
            TicketUpdate.model_validate({field: None})
    schema = TicketUpdate.model_json_schema()["properties"]
    assert "default" not in schema["priority"] and "anyOf" not in schema["priority"]


def test_comment_author_and_visibility() -> None:
    agent = _COMMENT.validate_python({"body": "x", "public": False})
    assert (agent.author_type, agent.public) == ("agent", False)
    customer = _COMMENT.validate_python({"body": "x", "author_type": "customer"})
    assert (customer.author_type, customer.public) == ("customer", True)
    with pytest.raises(ValidationError):
        _COMMENT.validate_python({"body": "x", "public": False, "author_type": "customer"})
    with pytest.raises(ValidationError):
        _COMMENT.validate_python({"body": "x", "public": 0})
