"""Request and response models of the tickets API (named by role: ``*Create``, ``*Update``,
``*Write`` in, ``*Public`` out). Every body constraint is a field constraint here, so the
OpenAPI document shows it; what a schema cannot say (a calendar's intervals overlapping,
two SLA rules overlapping) is checked by app/ and answered 422 naming the field."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relacja_contracts.events.tickets import TicketChannel, TicketPriority, TicketStatus, TicketType
from relacja_servicekit.pagination import Page
from relacja_servicekit.types import Day, Integer, StrictBool

from ..app.surveys import IssuedSurvey as IssuedSurveyResult
from ..app.tickets import TicketState
from ..domain.calendars import WEEKDAYS
from ..domain.lifecycle import Action
from ..domain.sla import SlaClock
from ..tables import FAR_FUTURE

__all__ = [
    "TicketCreate",
    "TicketUpdate",
    "TicketPublic",
    "TicketsPublic",
    "SlaPublic",
    "ClockPublic",
    "IssuedSurvey",
    "CommentCreate",
    "AgentCommentCreate",
    "CustomerCommentCreate",
    "CommentPublic",
    "CommentsPublic",
    "SlaRuleModel",
    "SlaPolicyWrite",
    "SlaPolicyPublic",
    "SlaPoliciesPublic",
    "WorkingInterval",
    "WorkingHours",
    "TicketsSettingsPublic",
    "Integer",
    "ticket_public",
]

Tag = Annotated[str, Field(min_length=1, max_length=100)]
AgentId = Annotated[str, Field(min_length=1, max_length=200)]
Team = Annotated[str, Field(min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TicketCreate(_Strict):
    customer_id: uuid.UUID
    type: TicketType
    channel: TicketChannel
    priority: TicketPriority = "normal"
    subject: str = Field(min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=100_000)
    order_id: uuid.UUID | None = Field(default=None, description="The order the ticket is about")
    assignee_id: AgentId | None = None
    team: Team | None = Field(default=None, description="Chooses the SLA policy (the team's own, else the default)")
    tags: list[Tag] = Field(default_factory=list, max_length=50)


def _no_default(schema: dict[str, Any]) -> None:
    # Absent means "unchanged", but null is refused: the schema shows no default (and no null).
    schema.pop("default", None)


class TicketUpdate(_Strict):
    """Fields to change, as a JSON merge patch (absent: unchanged). ``null`` clears assignee,
    team, order and description; type, channel, priority and subject cannot be cleared."""

    type: TicketType = Field(default=None, json_schema_extra=_no_default)  # type: ignore[arg-type]  # absent = unchanged; null is refused
    channel: TicketChannel = Field(default=None, json_schema_extra=_no_default)  # type: ignore[arg-type]  # absent = unchanged; null is refused
    priority: TicketPriority = Field(default=None, json_schema_extra=_no_default)  # type: ignore[arg-type]  # absent = unchanged; null is refused
    subject: str = Field(default=None, min_length=1, max_length=500, json_schema_extra=_no_default)  # type: ignore[assignment]  # absent = unchanged; null is refused
    description: str | None = Field(default=None, max_length=100_000)
    order_id: uuid.UUID | None = None
    assignee_id: AgentId | None = None
    team: Team | None = None
    tags: list[Tag] = Field(default=None, max_length=50, json_schema_extra=_no_default)  # type: ignore[arg-type]  # absent = unchanged; null is refused


class ClockPublic(BaseModel):
    state: Literal["running", "paused", "met", "breached"]
    target_minutes: int
    due_at: datetime | None = Field(description="Null while paused (waiting for the customer)")
    paused: bool
    met_at: datetime | None
    breached_at: datetime | None

    @classmethod
    def of(cls, clock: SlaClock) -> ClockPublic:
        return cls(
            state=clock.state,
            target_minutes=clock.target_seconds // 60,
            due_at=clock.due_at,
            paused=clock.paused,
            met_at=clock.met_at,
            breached_at=clock.breached_at,
        )


class SlaPublic(BaseModel):
    policy_id: uuid.UUID
    due_at: datetime | None = Field(description="The earliest due time of a running target; null if none runs")
    paused: bool
    breached: bool
    first_response: ClockPublic | None
    resolution: ClockPublic | None


class IssuedSurvey(BaseModel):
    id: uuid.UUID
    kind: Literal["csat", "nps"]
    token: str = Field(description="Shown only here: send it to the customer; answer at /api/v1/surveys/{token}")
    url_path: str
    expires_at: datetime

    @classmethod
    def of(cls, issued: IssuedSurveyResult) -> IssuedSurvey:
        return cls(
            id=issued.id, kind=issued.kind, token=issued.token, url_path=issued.url_path, expires_at=issued.expires_at
        )


class TicketPublic(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    order_id: uuid.UUID | None
    type: TicketType
    channel: TicketChannel
    priority: TicketPriority
    status: TicketStatus
    subject: str | None = Field(description="Null only after the customer's data was erased")
    description: str | None
    assignee_id: str | None
    team: str | None
    tags: list[str]
    version: int
    opened_at: datetime
    updated_at: datetime
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    erased_at: datetime | None
    sla: SlaPublic | None = Field(description="Null when no SLA policy applied at opening")
    survey: IssuedSurvey | None = Field(
        default=None, description="Only in the answer that resolved the ticket: the CSAT survey issued"
    )


TicketsPublic = Page[TicketPublic]


def ticket_public(state: TicketState) -> TicketPublic:
    data, clocks = dict(state.row._mapping), state.clocks
    survey = IssuedSurvey.of(state.survey) if state.survey else None
    sla = None
    if data["policy_id"] is not None and clocks:
        running = [c for c in clocks.values() if c.met_at is None]
        sla = SlaPublic(
            policy_id=data["policy_id"],
            due_at=None if data["next_due_at"] == FAR_FUTURE else data["next_due_at"],
            paused=bool(running) and all(c.paused for c in running),
            breached=data["sla_breached"],
            first_response=ClockPublic.of(clocks["first_response"]) if "first_response" in clocks else None,
            resolution=ClockPublic.of(clocks["resolution"]) if "resolution" in clocks else None,
        )
    fields = {name: data[name] for name in TicketPublic.model_fields if name in data}
    return TicketPublic(**fields, sla=sla, survey=survey)


class AgentCommentCreate(_Strict):
    body: str = Field(min_length=1, max_length=100_000)
    public: StrictBool = Field(description="Seen by the customer (true) or internal to agents (false)")
    author_type: Literal["agent"] = "agent"
    author_id: str | None = Field(default=None, min_length=1, max_length=200)


class CustomerCommentCreate(_Strict):
    body: str = Field(min_length=1, max_length=100_000)
    public: Literal[True] = Field(default=True, description="A customer's comment is always public")
    author_type: Literal["customer"]
    author_id: str | None = Field(default=None, min_length=1, max_length=200)


CommentCreate = Annotated[
    AgentCommentCreate | CustomerCommentCreate,
    Field(description="An agent's comment (public or internal) or a customer's (always public)"),
]


class CommentPublic(BaseModel):
    id: uuid.UUID
    ticket_id: uuid.UUID
    author_type: Literal["agent", "customer"]
    author_id: str | None
    public: bool
    body: str | None = Field(description="Null only after the customer's data was erased")
    created_at: datetime
    erased_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> CommentPublic:
        return cls.model_validate(dict(row._mapping))


CommentsPublic = Page[CommentPublic]


_START = r"^([01]\d|2[0-3]):[0-5]\d$"
_END = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"
_DAY_INTERVALS = 48  # a day of half-hour slots; more is a mistake, not a calendar


class WorkingInterval(_Strict):
    start: str = Field(pattern=_START, examples=["09:00"], description="Wall-clock HH:MM, 00:00–23:59")
    end: str = Field(
        pattern=_END,
        examples=["17:00"],
        description="Wall-clock HH:MM after start; 24:00 for midnight at the end of the day",
    )


def _day(name: str) -> Any:
    return Field(
        default_factory=list, max_length=_DAY_INTERVALS, description=f"Working intervals on {name}s; empty: a day off"
    )


class WorkingHours(_Strict):
    """Working intervals per weekday in the policy's time zone. The intervals of a day must
    not overlap, and at least one day needs one (else no target could ever be reached)."""

    monday: list[WorkingInterval] = _day("Monday")
    tuesday: list[WorkingInterval] = _day("Tuesday")
    wednesday: list[WorkingInterval] = _day("Wednesday")
    thursday: list[WorkingInterval] = _day("Thursday")
    friday: list[WorkingInterval] = _day("Friday")
    saturday: list[WorkingInterval] = _day("Saturday")
    sunday: list[WorkingInterval] = _day("Sunday")

    def as_pairs(self) -> dict[str, list[tuple[str, str]]]:
        """Working days only: weekday → [(start, end)] (the form ``domain.calendars`` takes)."""
        return {day: [(i.start, i.end) for i in getattr(self, day)] for day in WEEKDAYS if getattr(self, day)}


assert tuple(WorkingHours.model_fields) == WEEKDAYS


class SlaRuleModel(_Strict):
    priorities: list[TicketPriority] = Field(default_factory=list, max_length=4, description="Empty: every priority")
    types: list[TicketType] = Field(default_factory=list, max_length=10, description="Empty: every type")
    first_response_minutes: Integer = Field(ge=1, le=525_600, description="Business minutes to the first public answer")
    resolution_minutes: Integer = Field(ge=1, le=525_600, description="Business minutes to resolution")


class SlaPolicyWrite(_Strict):
    name: str = Field(min_length=1, max_length=200)
    team: Team | None = Field(default=None, description="Null: the default policy for teams without their own")
    time_zone: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
        examples=["Europe/Warsaw"],
        description="IANA time zone of the working hours (an unknown one is 422)",
    )
    working_hours: WorkingHours
    holidays: list[Day] = Field(default_factory=list, max_length=1000, description="Local dates without working hours")
    rules: list[SlaRuleModel] = Field(
        min_length=1,
        max_length=100,
        description="No two rules may match the same (priority, type): 422 overlapping-sla-rules",
    )


class SlaPolicyPublic(SlaPolicyWrite):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> SlaPolicyPublic:
        data = dict(row._mapping)
        data["working_hours"] = {
            day: [{"start": start, "end": end} for start, end in intervals]
            for day, intervals in data["working_hours"].items()
        }
        return cls.model_validate(data)


SlaPoliciesPublic = Page[SlaPolicyPublic]


class TicketsSettingsPublic(BaseModel):
    """The settings of this deployment that change the service's answers."""

    reopen_window_hours: int = Field(
        description="A resolved ticket can be reopened this long after resolved_at; then it is closed"
    )
    csat_valid_hours: int = Field(description="How long the CSAT survey issued on a resolve can be answered")
    nps_valid_hours: int = Field(description="How long an NPS survey can be answered")
    default_sla_policy_id: uuid.UUID | None = Field(
        description="The SLA policy of tickets whose team has none of its own (null: such tickets get no SLA); "
        "business calendars and targets are in /api/v1/sla-policies"
    )
    actions: dict[TicketStatus, list[Action]] = Field(
        description="The state machine: the actions (POST /api/v1/tickets/{id}/<action>) allowed from each status"
    )
