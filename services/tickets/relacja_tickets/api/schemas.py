"""Request and response models of the tickets API (named by role, as in CONVENTIONS.md)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relacja_contracts.events.tickets import TicketChannel, TicketPriority, TicketStatus, TicketType
from relacja_servicekit.pagination import Page

from ..domain.sla import SlaClock, Target
from ..tables import FAR_FUTURE

__all__ = [
    "TicketCreate",
    "TicketUpdate",
    "StatusChange",
    "TicketPublic",
    "TicketsPublic",
    "SlaPublic",
    "ClockPublic",
    "IssuedSurvey",
    "CommentCreate",
    "CommentPublic",
    "CommentsPublic",
    "SlaRuleModel",
    "SlaPolicyWrite",
    "SlaPolicyPublic",
    "SlaPoliciesPublic",
    "WorkingInterval",
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


class TicketUpdate(_Strict):
    """Fields to change (absent: unchanged; null clears assignee, team, order, description)."""

    type: TicketType | None = None
    channel: TicketChannel | None = None
    priority: TicketPriority | None = None
    subject: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=100_000)
    order_id: uuid.UUID | None = None
    assignee_id: AgentId | None = None
    team: Team | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)


class StatusChange(_Strict):
    status: TicketStatus = Field(description="The status to move to; resolved → open is a reopen")


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
    survey: IssuedSurvey | None = Field(default=None, description="Only in the answer that resolved the ticket: the CSAT survey issued")


TicketsPublic = Page[TicketPublic]


def ticket_public(row: Any, clocks: Mapping[Target, SlaClock], survey: IssuedSurvey | None = None) -> TicketPublic:
    data = dict(row._mapping)
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


class CommentCreate(_Strict):
    body: str = Field(min_length=1, max_length=100_000)
    public: bool = Field(description="Seen by the customer (true) or internal to agents (false)")
    author_type: Literal["agent", "customer"] = "agent"
    author_id: str | None = Field(default=None, min_length=1, max_length=200)


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


class WorkingInterval(_Strict):
    start: str = Field(pattern=r"^\d\d:\d\d$", examples=["09:00"])
    end: str = Field(pattern=r"^\d\d:\d\d$", examples=["17:00"], description="24:00 for midnight at the end of the day")


class SlaRuleModel(_Strict):
    priorities: list[TicketPriority] = Field(default_factory=list, description="Empty: every priority")
    types: list[TicketType] = Field(default_factory=list, description="Empty: every type")
    first_response_minutes: int = Field(ge=1, le=525_600, description="Business minutes to the first public answer")
    resolution_minutes: int = Field(ge=1, le=525_600, description="Business minutes to resolution")


class SlaPolicyWrite(_Strict):
    name: str = Field(min_length=1, max_length=200)
    team: Team | None = Field(default=None, description="Null: the default policy for teams without their own")
    time_zone: str = Field(min_length=1, max_length=64, examples=["Europe/Warsaw"], description="IANA time zone of the working hours")
    working_hours: dict[str, list[WorkingInterval]] = Field(description="Per weekday (monday … sunday); a missing day is a day off")
    holidays: list[date] = Field(default_factory=list, max_length=1000)
    rules: list[SlaRuleModel] = Field(min_length=1, max_length=100)


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
            day: [{"start": start, "end": end} for start, end in intervals] for day, intervals in data["working_hours"].items()
        }
        return cls.model_validate(data)


SlaPoliciesPublic = Page[SlaPolicyPublic]
