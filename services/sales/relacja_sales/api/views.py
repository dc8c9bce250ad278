"""Rows and use-case results → response models."""

from __future__ import annotations

from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from relacja_servicekit.etags import etag

from ..app.pipelines import PipelineState
from ..domain import activities as activity_rules
from ..domain import deals
from .schemas import ActivityPublic, LeadPublic, OpportunityPublic, PipelinePublic, StagePublic

__all__ = ["stage_public", "pipeline_public", "opportunity_public", "activity_public", "lead_public", "answer"]


def _fields(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def stage_public(row: Any) -> StagePublic:
    return StagePublic.model_validate(_fields(row), from_attributes=False)


def pipeline_public(state: PipelineState) -> PipelinePublic:
    return PipelinePublic(**_fields(state.row), stages=[stage_public(s) for s in state.stages])


def opportunity_public(row: Any) -> OpportunityPublic:
    values = _fields(row)
    return OpportunityPublic(**values, allowed_actions=deals.allowed_actions(row.status))


def activity_public(row: Any) -> ActivityPublic:
    return ActivityPublic(**_fields(row), allowed_actions=activity_rules.allowed_actions(row.status))


def lead_public(row: Any) -> LeadPublic:
    return LeadPublic(**_fields(row))


def answer(model: BaseModel, version: int, status_code: int = 200) -> JSONResponse:
    """The resource with its ETag."""
    return JSONResponse(jsonable_encoder(model), status_code=status_code, headers={"ETag": etag(version)})
