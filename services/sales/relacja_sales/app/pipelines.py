"""Pipelines and stages, loss reasons, exchange rates: the settings sales managers keep.

Editing a pipeline (``update_pipeline``) takes the whole new stage list: a stage with an
``id`` is kept (renamed, re-weighted, moved), one without is added, an existing stage left
out is retired (kept for history, takes no deal; 409 ``stage-in-use`` while open deals are
in it). A stage's ``is_won`` / ``is_closed`` never change — that would rewrite what past
deals meant; add a new stage instead. A new probability applies to the open deals in the
stage from now on (the forecast weighs them with it); the stage history keeps the
probabilities and names deals saw when they entered.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit import Problem
from relacja_servicekit.etags import check_if_match

from ..domain.pipelines import StageError, StageSpec, check_stages
from ..tables import exchange_rates, loss_reasons, opportunities, pipelines, stages
from .common import invalid, not_found

__all__ = [
    "PipelineState",
    "create_pipeline",
    "get_pipeline",
    "list_pipelines",
    "update_pipeline",
    "load_stage",
    "create_loss_reason",
    "list_loss_reasons",
    "require_loss_reason",
    "set_rate",
    "list_rates",
    "rate_rows",
]


@dataclass(frozen=True)
class PipelineState:
    row: Any
    stages: list[Any]


def _spec(stage: Mapping[str, Any]) -> StageSpec:
    return StageSpec(stage["name"], stage["probability"], stage.get("is_won", False), stage.get("is_closed", False))


def _check(specs: Sequence[StageSpec]) -> None:
    try:
        check_stages(specs)
    except StageError as error:
        raise invalid(error.field, error.message) from None


async def _name_taken(session: AsyncSession, name: str, pipeline_id: uuid.UUID | None) -> None:
    query = select(pipelines.c.id).where(pipelines.c.name == name)
    if pipeline_id is not None:
        query = query.where(pipelines.c.id != pipeline_id)
    if (await session.execute(query)).first() is not None:
        raise Problem(409, "Pipeline exists", f"A pipeline named {name!r} exists.", type_="duplicate-pipeline")


async def _stages_of(session: AsyncSession, pipeline_id: uuid.UUID) -> list[Any]:
    query = (
        select(stages).where(stages.c.pipeline_id == pipeline_id).order_by(stages.c.active.desc(), stages.c.position)
    )
    return list((await session.execute(query)).all())


async def create_pipeline(session: AsyncSession, values: Mapping[str, Any], now: datetime) -> PipelineState:
    _check([_spec(s) for s in values["stages"]])
    await _name_taken(session, values["name"], None)
    pipeline_id = uuid.uuid4()
    row = (
        await session.execute(
            insert(pipelines)
            .values(
                id=pipeline_id,
                name=values["name"],
                late_reminders_allowed=values.get("late_reminders_allowed", False),
                version=1,
                created_at=now,
                updated_at=now,
            )
            .returning(pipelines)
        )
    ).one()
    await session.execute(
        insert(stages),
        [
            {"id": uuid.uuid4(), "pipeline_id": pipeline_id, "position": index, "active": True, **_spec(s).__dict__}
            for index, s in enumerate(values["stages"])
        ],
    )
    return PipelineState(row, await _stages_of(session, pipeline_id))


async def get_pipeline(session: AsyncSession, pipeline_id: uuid.UUID, *, lock: bool = False) -> PipelineState:
    query = select(pipelines).where(pipelines.c.id == pipeline_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("pipeline", pipeline_id)
    return PipelineState(row, await _stages_of(session, pipeline_id))


async def list_pipelines(session: AsyncSession) -> list[PipelineState]:
    rows = (await session.execute(select(pipelines).order_by(pipelines.c.created_at, pipelines.c.id))).all()
    all_stages = (await session.execute(select(stages).order_by(stages.c.active.desc(), stages.c.position))).all()
    by_pipeline: dict[uuid.UUID, list[Any]] = {}
    for stage in all_stages:
        by_pipeline.setdefault(stage.pipeline_id, []).append(stage)
    return [PipelineState(row, by_pipeline.get(row.id, [])) for row in rows]


async def update_pipeline(
    session: AsyncSession, pipeline_id: uuid.UUID, changes: Mapping[str, Any], *, if_match: str, now: datetime
) -> PipelineState:
    current = await get_pipeline(session, pipeline_id, lock=True)
    check_if_match(if_match, current.row.version, required=True, what="pipeline")
    values: dict[str, Any] = {k: v for k, v in changes.items() if k in ("name", "late_reminders_allowed")}
    if "name" in values:
        await _name_taken(session, values["name"], pipeline_id)
    if changes.get("stages") is not None:
        await _replace_stages(session, current, changes["stages"])
    await session.execute(
        update(pipelines)
        .where(pipelines.c.id == pipeline_id)
        .values(**values, version=pipelines.c.version + 1, updated_at=now)
    )
    return await get_pipeline(session, pipeline_id)


async def _replace_stages(session: AsyncSession, current: PipelineState, new: Sequence[Mapping[str, Any]]) -> None:
    _check([_spec(s) for s in new])
    existing = {stage.id: stage for stage in current.stages}
    kept: set[uuid.UUID] = set()
    for index, stage in enumerate(new):
        stage_id = stage.get("id")
        if stage_id is None:
            continue
        old = existing.get(stage_id)
        if old is None:
            raise invalid(f"body.stages[{index}].id", "not a stage of this pipeline")
        if stage_id in kept:
            raise invalid(f"body.stages[{index}].id", "listed twice")
        if (old.is_won, old.is_closed) != (stage.get("is_won", False), stage.get("is_closed", False)):
            raise invalid(
                f"body.stages[{index}].is_closed",
                "is_won and is_closed of an existing stage cannot change; add a stage",
            )
        kept.add(stage_id)
    retired = [stage.id for stage in current.stages if stage.active and stage.id not in kept]
    if retired:
        in_use = (
            await session.execute(
                select(opportunities.c.stage_id)
                .where(opportunities.c.stage_id.in_(retired), opportunities.c.status == "open")
                .limit(1)
            )
        ).first()
        if in_use is not None:
            raise Problem(
                409,
                "Stage in use",
                f"Stage {in_use.stage_id} has open deals; move them before retiring it.",
                type_="stage-in-use",
                extra={"stage_id": str(in_use.stage_id)},
            )
        await session.execute(update(stages).where(stages.c.id.in_(retired)).values(active=False))
    for index, stage in enumerate(new):
        spec = _spec(stage)
        if stage.get("id") is None:
            await session.execute(
                insert(stages).values(
                    id=uuid.uuid4(), pipeline_id=current.row.id, position=index, active=True, **spec.__dict__
                )
            )
            continue
        old = existing[stage["id"]]
        await session.execute(
            update(stages)
            .where(stages.c.id == old.id)
            .values(name=spec.name, probability=spec.probability, position=index, active=True)
        )
        if old.probability != spec.probability:
            await session.execute(
                update(opportunities)
                .where(opportunities.c.stage_id == old.id, opportunities.c.status == "open")
                .values(probability=spec.probability)
            )


async def load_stage(session: AsyncSession, stage_id: uuid.UUID) -> Any | None:
    return (await session.execute(select(stages).where(stages.c.id == stage_id))).first()


async def create_loss_reason(session: AsyncSession, code: str, label: str) -> Any:
    row = (
        await session.execute(
            pg_insert(loss_reasons)
            .values(code=code, label=label, active=True)
            .on_conflict_do_nothing(index_elements=["code"])
            .returning(loss_reasons)
        )
    ).first()
    if row is None:
        raise Problem(
            409, "Loss reason exists", f"A loss reason with code {code!r} exists.", type_="duplicate-loss-reason"
        )
    return row


async def list_loss_reasons(session: AsyncSession) -> list[Any]:
    return list((await session.execute(select(loss_reasons).order_by(loss_reasons.c.code))).all())


async def require_loss_reason(session: AsyncSession, code: str, field: str = "body.loss_reason") -> None:
    row = (await session.execute(select(loss_reasons.c.active).where(loss_reasons.c.code == code))).first()
    if row is None or not row.active:
        raise invalid(
            field,
            f"{code!r} is not a managed loss reason (GET /api/v1/sales/loss-reasons)",
            type_="unknown-loss-reason",
        )


async def set_rate(session: AsyncSession, currency: str, valid_from: date, rate: Decimal) -> Any:
    statement = pg_insert(exchange_rates).values(currency=currency, valid_from=valid_from, rate=rate)
    return (
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=["currency", "valid_from"], set_={"rate": statement.excluded.rate}
            ).returning(exchange_rates)
        )
    ).one()


async def list_rates(session: AsyncSession) -> list[Any]:
    query = select(exchange_rates).order_by(exchange_rates.c.currency, exchange_rates.c.valid_from)
    return list((await session.execute(query)).all())


async def rate_rows(session: AsyncSession) -> list[tuple[str, date, Decimal]]:
    return [(row.currency, row.valid_from, row.rate) for row in await list_rates(session)]
