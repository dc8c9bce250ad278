"""Opportunity (deal) use cases, each in the caller's transaction and under the caller's
access rule (``common.visible``: a deal the caller may not see is 404 everywhere).

    create_opportunity   for an active customer (read-through on a projection miss), in an
                         open, active stage of the pipeline (its first open stage by default);
                         the first stage history row; OpportunityCreatedV1
    update_opportunity   fields of an open deal (If-Match)
    move                 to another open stage of the same pipeline; a history row;
                         OpportunityStageChangedV1
    win / lose           to the won stage / a lost stage (with a managed loss reason);
                         a history row; OpportunityWonV1 (``draft_order`` asks the orders
                         service for a draft order) / OpportunityLostV1
    board                open deals by stage of one pipeline: count, sum and the first deals
    stage_history        every stage the deal entered

Every change locks the deal row first (``FOR UPDATE``), checks If-Match, then writes the
row, the history and the event together, so nothing is half-written.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events import (
    OpportunityCreatedV1,
    OpportunityLostV1,
    OpportunityStageChangedV1,
    OpportunityWonV1,
)
from relacja_servicekit import Problem
from relacja_servicekit.customer_directory import CustomerDirectory, require_customer
from relacja_servicekit.etags import check_if_match
from relacja_servicekit.pagination import Page, paginate

from ..domain import deals
from ..domain.access import Caller, can_see
from ..domain.deals import FieldError, LineItem
from ..domain.pipelines import MoveError, check_move
from ..events import emit
from ..tables import known_customers, opportunities, pipelines, stage_history, stages
from .common import field_problem, illegal_transition, invalid, not_found, visible
from .pipelines import load_stage, require_loss_reason
from .scoring import count_closed

__all__ = [
    "OpportunityFilters",
    "BoardColumn",
    "create_opportunity",
    "get_opportunity",
    "list_opportunities",
    "update_opportunity",
    "move",
    "win",
    "lose",
    "board",
    "stage_history_of",
]

_EDITABLE = (
    "name",
    "amount",
    "currency",
    "expected_close_date",
    "next_step",
    "contacts",
    "line_items",
    "owner_id",
    "team",
    "source",
)


@dataclass(frozen=True)
class OpportunityFilters:
    status: Sequence[str] | None = None
    pipeline_id: uuid.UUID | None = None
    stage_id: uuid.UUID | None = None
    owner_id: str | None = None
    team: str | None = None
    customer_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BoardColumn:
    stage: Any
    count: int
    amounts: dict[str, Decimal]
    items: list[Any]


def _fail(error: FieldError) -> Problem:
    return field_problem(error)


def _line_items(values: Sequence[Mapping[str, Any]]) -> list[LineItem]:
    return [LineItem(v["quantity"], Decimal(v["unit_price"]), Decimal(v.get("discount_amount", 0))) for v in values]


def _check_fields(values: Mapping[str, Any], created_on: Any) -> None:
    try:
        if "amount" in values:
            deals.check_amount(Decimal(values["amount"]))
        if "expected_close_date" in values:
            deals.check_close_date(values["expected_close_date"], created_on)
        if values.get("line_items"):
            deals.check_line_items(_line_items(values["line_items"]))
    except FieldError as error:
        raise _fail(error) from None


def _check_owner(caller: Caller, owner_id: str, team: str | None) -> None:
    # Nobody hands a deal to someone outside what they may see themselves (a rep keeps their
    # own deals, a team lead keeps them in the team).
    if not can_see(caller, owner_id, team):
        raise invalid("body.owner_id", "you may assign deals only to yourself or within what you may see")


async def _pipeline_stage(session: AsyncSession, pipeline_id: uuid.UUID, stage_id: uuid.UUID | None) -> tuple[Any, Any]:
    pipeline = (await session.execute(select(pipelines).where(pipelines.c.id == pipeline_id))).first()
    if pipeline is None:
        raise invalid("body.pipeline_id", "no such pipeline", type_="unknown-pipeline")
    if stage_id is None:
        stage = (
            await session.execute(
                select(stages)
                .where(stages.c.pipeline_id == pipeline_id, stages.c.active, stages.c.is_closed.is_(False))
                .order_by(stages.c.position)
                .limit(1)
            )
        ).first()
        return pipeline, stage
    stage = await load_stage(session, stage_id)
    if stage is None:
        raise invalid("body.stage_id", "no such stage", type_="unknown-stage")
    try:
        check_move(
            deal_status="open",
            target_closed=stage.is_closed,
            target_active=stage.active,
            same_pipeline=stage.pipeline_id == pipeline_id,
        )
    except MoveError as error:
        raise invalid("body.stage_id", error.message, type_=error.reason) from None
    return pipeline, stage


async def _record_stage(
    session: AsyncSession, deal: Any, previous: Any | None, stage: Any, caller: Caller, now: datetime
) -> None:
    if previous is not None:
        await session.execute(
            update(stage_history)
            .where(stage_history.c.opportunity_id == deal.id, stage_history.c.left_at.is_(None))
            .values(left_at=now)
        )
    await session.execute(
        insert(stage_history).values(
            opportunity_id=deal.id,
            pipeline_id=stage.pipeline_id,
            from_stage_id=previous.id if previous is not None else None,
            from_stage_name=previous.name if previous is not None else None,
            to_stage_id=stage.id,
            to_stage_name=stage.name,
            probability=stage.probability,
            changed_by=caller.id,
            changed_at=now,
            left_at=now if stage.is_closed else None,
        )
    )


def _deal_fields(row: Any, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": row.customer_id,
        "opportunity_id": row.id,
        "pipeline_id": row.pipeline_id,
        "owner_id": row.owner_id,
        "team": row.team,
        "amount": row.amount,
        "currency": row.currency,
        "occurred_at": now,
    }


async def create_opportunity(
    session: AsyncSession,
    directory: CustomerDirectory,
    caller: Caller,
    values: Mapping[str, Any],
    now: datetime,
    *,
    lead_customer_id: uuid.UUID | None = None,
) -> Any:
    owner_id = values.get("owner_id") or caller.id
    team = values["team"] if "team" in values and values["team"] is not None else caller.team
    _check_owner(caller, owner_id, team)
    _check_fields(values, now.date())
    await require_customer(session, known_customers, directory, values["customer_id"], service="sales")
    for index, contact in enumerate(values.get("contacts") or []):
        if contact["customer_id"] != values["customer_id"]:
            await require_customer(
                session,
                known_customers,
                directory,
                contact["customer_id"],
                service="sales",
                field=f"body.contacts[{index}].customer_id",
            )
    pipeline, stage = await _pipeline_stage(session, values["pipeline_id"], values.get("stage_id"))
    if stage is None:
        raise invalid("body.pipeline_id", "the pipeline has no open stage")
    closes = values.get("expected_close_date")
    row = (
        await session.execute(
            insert(opportunities)
            .values(
                id=uuid.uuid4(),
                customer_id=values["customer_id"],
                name=values.get("name"),
                owner_id=owner_id,
                team=team,
                pipeline_id=pipeline.id,
                stage_id=stage.id,
                probability=stage.probability,
                status="open",
                amount=Decimal(values["amount"]),
                currency=values["currency"],
                expected_close_date=closes,
                forecast_date=closes,
                source=values.get("source", "manual"),
                contacts=_jsonable(values.get("contacts") or []),
                line_items=_jsonable(values.get("line_items") or []),
                next_step=values.get("next_step"),
                lead_customer_id=lead_customer_id,
                stage_entered_at=now,
                created_at=now,
                updated_at=now,
                version=1,
            )
            .returning(opportunities)
        )
    ).one()
    await _record_stage(session, row, None, stage, caller, now)
    await emit(
        session,
        OpportunityCreatedV1(
            **_deal_fields(row, now),
            stage_id=stage.id,
            stage_name=stage.name,
            probability=stage.probability,
            expected_close_date=closes,
            source=row.source,
            lead_conversion=lead_customer_id is not None,
        ),
    )
    return row


def _jsonable(items: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, uuid.UUID | Decimal) else v for k, v in item.items()} for item in items]


async def _lock(session: AsyncSession, caller: Caller, opportunity_id: uuid.UUID) -> Any:
    c = opportunities.c
    row = (
        await session.execute(
            select(opportunities).where(c.id == opportunity_id, visible(caller, c.owner_id, c.team)).with_for_update()
        )
    ).first()
    if row is None:
        raise not_found("opportunity", opportunity_id)
    return row


async def get_opportunity(session: AsyncSession, caller: Caller, opportunity_id: uuid.UUID) -> Any:
    c = opportunities.c
    row = (
        await session.execute(select(opportunities).where(c.id == opportunity_id, visible(caller, c.owner_id, c.team)))
    ).first()
    if row is None:
        raise not_found("opportunity", opportunity_id)
    return row


async def list_opportunities(
    session: AsyncSession, caller: Caller, filters: OpportunityFilters, *, limit: int, cursor: str | None
) -> Page[Any]:
    """Newest first, only what the caller may see."""
    c = opportunities.c
    query: Select[Any] = select(opportunities).where(visible(caller, c.owner_id, c.team))
    if filters.status:
        query = query.where(c.status.in_(filters.status))
    for column, value in (
        (c.pipeline_id, filters.pipeline_id),
        (c.stage_id, filters.stage_id),
        (c.owner_id, filters.owner_id),
        (c.team, filters.team),
        (c.customer_id, filters.customer_id),
    ):
        if value is not None:
            query = query.where(column == value)
    return await paginate(
        session,
        query,
        keys=[c.created_at, c.id],
        limit=limit,
        cursor=cursor,
        sort="-created_at",
        descending=True,
        to_item=lambda row: row,
    )


def _require_open(row: Any, action: str) -> None:
    if row.status != "open":
        raise illegal_transition("opportunity", row.status, action, deals.allowed_actions(row.status))


async def _save(session: AsyncSession, opportunity_id: uuid.UUID, values: Mapping[str, Any]) -> Any:
    return (
        await session.execute(
            update(opportunities)
            .where(opportunities.c.id == opportunity_id)
            .values(**values, version=opportunities.c.version + 1)
            .returning(opportunities)
        )
    ).one()


async def update_opportunity(
    session: AsyncSession,
    directory: CustomerDirectory,
    caller: Caller,
    opportunity_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    if_match: str,
    now: datetime,
) -> Any:
    row = await _lock(session, caller, opportunity_id)
    check_if_match(if_match, row.version, required=True, what="opportunity")
    _require_open(row, "update")
    _check_fields(changes, row.created_at.date())
    values = {k: v for k, v in changes.items() if k in _EDITABLE}
    if "owner_id" in values or "team" in values:
        if values.get("owner_id") is None:
            values["owner_id"] = row.owner_id
        _check_owner(caller, values["owner_id"], values.get("team", row.team))
    for index, contact in enumerate(values.get("contacts") or []):
        await require_customer(
            session,
            known_customers,
            directory,
            contact["customer_id"],
            service="sales",
            field=f"body.contacts[{index}].customer_id",
        )
    for key in ("contacts", "line_items"):
        if key in values:
            values[key] = _jsonable(values[key] or [])
    if "amount" in values:
        values["amount"] = Decimal(values["amount"])
    if "expected_close_date" in values:
        values["forecast_date"] = values["expected_close_date"]
    if not values:
        return row
    return await _save(session, opportunity_id, {**values, "updated_at": now})


async def move(
    session: AsyncSession,
    caller: Caller,
    opportunity_id: uuid.UUID,
    stage_id: uuid.UUID,
    *,
    if_match: str | None,
    now: datetime,
) -> Any:
    row = await _lock(session, caller, opportunity_id)
    check_if_match(if_match, row.version, what="opportunity")
    _require_open(row, "move")
    target = await load_stage(session, stage_id)
    if target is None:
        raise invalid("body.stage_id", "no such stage", type_="unknown-stage")
    try:
        check_move(
            deal_status=row.status,
            target_closed=target.is_closed,
            target_active=target.active,
            same_pipeline=target.pipeline_id == row.pipeline_id,
        )
    except MoveError as error:
        raise invalid("body.stage_id", error.message, type_=error.reason) from None
    if target.id == row.stage_id:
        return row
    return await _enter(session, caller, row, target, now, {})


async def _enter(
    session: AsyncSession, caller: Caller, row: Any, target: Any, now: datetime, extra: Mapping[str, Any]
) -> Any:
    previous = await load_stage(session, row.stage_id)
    if previous is None:  # stages are never deleted (retired ones stay), and a deal always has one
        raise RuntimeError(f"stage {row.stage_id} of opportunity {row.id} is missing")
    updated = await _save(
        session,
        row.id,
        {"stage_id": target.id, "probability": target.probability, "stage_entered_at": now, "updated_at": now, **extra},
    )
    await _record_stage(session, updated, previous, target, caller, now)
    await emit(
        session,
        OpportunityStageChangedV1(
            **_deal_fields(updated, now),
            from_stage_id=previous.id,
            from_stage_name=previous.name,
            to_stage_id=target.id,
            to_stage_name=target.name,
            probability=target.probability,
            changed_by=caller.id,
        ),
    )
    return updated


async def _closing_stage(session: AsyncSession, row: Any, *, won: bool, stage_id: uuid.UUID | None) -> Any:
    c = stages.c
    query = select(stages).where(c.pipeline_id == row.pipeline_id, c.active, c.is_closed, c.is_won.is_(won))
    if stage_id is not None:
        stage = await load_stage(session, stage_id)
        if stage is None or stage.pipeline_id != row.pipeline_id or not stage.active:
            raise invalid("body.stage_id", "not an active stage of the deal's pipeline", type_="unknown-stage")
        if not stage.is_closed or stage.is_won is not won:
            raise invalid("body.stage_id", "a won stage" if won else "a lost stage (closed, not won) is needed")
        return stage
    stage = (await session.execute(query.order_by(c.position).limit(1))).first()
    if stage is None:
        raise Problem(409, "No closing stage", "The pipeline has no such closed stage.", type_="no-closing-stage")
    return stage


async def win(
    session: AsyncSession,
    caller: Caller,
    opportunity_id: uuid.UUID,
    *,
    draft_order: bool,
    if_match: str | None,
    now: datetime,
) -> Any:
    row = await _lock(session, caller, opportunity_id)
    check_if_match(if_match, row.version, what="opportunity")
    _require_open(row, "win")
    stage = await _closing_stage(session, row, won=True, stage_id=None)
    closed = {"status": "won", "closed_at": now, "forecast_date": now.date()}
    updated = await _enter(session, caller, row, stage, now, closed)
    await count_closed(session, updated, won=True)
    await emit(
        session,
        OpportunityWonV1(
            **_deal_fields(updated, now),
            stage_id=stage.id,
            closed_at=now,
            draft_order=draft_order,
            line_items=[
                {
                    "product_id": item["product_id"],
                    "quantity": item["quantity"],
                    "unit_price": item["unit_price"],
                    "discount_amount": item.get("discount_amount", "0"),
                }
                for item in updated.line_items
            ],
        ),
    )
    return updated


async def lose(
    session: AsyncSession,
    caller: Caller,
    opportunity_id: uuid.UUID,
    *,
    loss_reason: str,
    stage_id: uuid.UUID | None,
    if_match: str | None,
    now: datetime,
) -> Any:
    row = await _lock(session, caller, opportunity_id)
    check_if_match(if_match, row.version, what="opportunity")
    _require_open(row, "lose")
    await require_loss_reason(session, loss_reason)
    stage = await _closing_stage(session, row, won=False, stage_id=stage_id)
    closed = {"status": "lost", "closed_at": now, "forecast_date": now.date(), "loss_reason": loss_reason}
    updated = await _enter(session, caller, row, stage, now, closed)
    await count_closed(session, updated, won=False)
    await emit(
        session,
        OpportunityLostV1(**_deal_fields(updated, now), stage_id=stage.id, loss_reason=loss_reason, closed_at=now),
    )
    return updated


async def stage_history_of(session: AsyncSession, caller: Caller, opportunity_id: uuid.UUID) -> list[Any]:
    await get_opportunity(session, caller, opportunity_id)
    query = (
        select(stage_history)
        .where(stage_history.c.opportunity_id == opportunity_id)
        .order_by(stage_history.c.changed_at, stage_history.c.id)
    )
    return list((await session.execute(query)).all())


async def board(
    session: AsyncSession, caller: Caller, pipeline_id: uuid.UUID, *, per_stage: int, owner_id: str | None = None
) -> list[BoardColumn]:
    """The caller's open deals of one pipeline by stage: count and amount per currency over
    all of them, and the ``per_stage`` most valuable — three queries whatever the number of
    stages (the stages, the sums, the ranked deals; the owner's open deals are one range of
    ``ix_opportunities_owner_board``)."""
    c = opportunities.c
    active = (
        await session.execute(
            select(stages)
            .where(stages.c.pipeline_id == pipeline_id, stages.c.active, stages.c.is_closed.is_(False))
            .order_by(stages.c.position)
        )
    ).all()
    if (
        not active
        and (await session.execute(select(pipelines.c.id).where(pipelines.c.id == pipeline_id))).first() is None
    ):
        raise not_found("pipeline", pipeline_id)
    scope = [c.pipeline_id == pipeline_id, c.status == "open", visible(caller, c.owner_id, c.team)]
    if owner_id is not None:
        scope.append(c.owner_id == owner_id)
    totals = (
        await session.execute(
            select(c.stage_id, c.currency, func.count(), func.sum(c.amount))
            .where(*scope)
            .group_by(c.stage_id, c.currency)
        )
    ).all()
    counts: dict[uuid.UUID, int] = {}
    amounts: dict[uuid.UUID, dict[str, Decimal]] = {}
    for stage_id, currency, count, amount in totals:
        counts[stage_id] = counts.get(stage_id, 0) + count
        amounts.setdefault(stage_id, {})[currency] = amount
    items: dict[uuid.UUID, list[Any]] = {}
    if per_stage > 0 and counts:
        # One query for every stage's largest deals (a window per stage), not one per stage.
        ranked = (
            select(
                opportunities,
                func.row_number().over(partition_by=c.stage_id, order_by=(c.amount.desc(), c.id)).label("rank"),
            )
            .where(*scope)
            .subquery()
        )
        rows = (
            await session.execute(
                select(*[ranked.c[column.name] for column in opportunities.c])
                .where(ranked.c.rank <= per_stage)
                .order_by(ranked.c.stage_id, ranked.c.rank)
            )
        ).all()
        for row in rows:
            items.setdefault(row.stage_id, []).append(row)
    columns = [
        BoardColumn(stage, counts.get(stage.id, 0), amounts.get(stage.id, {}), items.get(stage.id, []))
        for stage in active
    ]
    return columns
