"""Triggers: create, replace (If-Match), enable / disable, read. Ready-made ones are seeded disabled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import paginate

from ..domain.triggers import EVENT_CONDITIONS, TriggerEvent
from ..tables import triggers
from .errors import IllegalTransition, InvalidField, NotFound
from .schemas import ActionsIn, ConditionsIn, TriggerIn, TriggerPublic, TriggersPublic
from .templates import template_row

__all__ = ["create_trigger", "get_trigger", "list_triggers", "replace_trigger", "set_enabled", "trigger_public"]


def trigger_public(row: Any) -> TriggerPublic:
    return TriggerPublic(
        id=row.id,
        name=row.name,
        ready_made=row.ready_made,
        event=TriggerEvent(row.event),
        conditions=ConditionsIn.model_validate(row.conditions),
        delay_seconds=row.delay_seconds,
        channel=row.channel,
        template_id=row.template_id,
        actions=ActionsIn(coupon_offer_id=row.coupon_offer_id, request_review=row.request_review),
        holdout_percent=str(Decimal(row.holdout_percent).normalize()),
        enabled=row.enabled,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def _check(session: AsyncSession, body: TriggerIn) -> None:
    for name, events in EVENT_CONDITIONS.items():
        if getattr(body.conditions, name) and body.event not in events:
            allowed = ", ".join(sorted(e.value for e in events))
            raise InvalidField(f"conditions.{name}", f"This condition applies to {allowed} only.")
    try:
        template = await template_row(session, body.template_id)
    except NotFound:
        raise InvalidField("template_id", "No template with this id.", type_="unknown-template") from None
    if template.channel != body.channel:
        raise InvalidField("template_id", f"The template is for {template.channel}, the trigger for {body.channel}.")


def _values(body: TriggerIn) -> dict[str, Any]:
    return {
        "name": body.name,
        "event": body.event.value,
        "conditions": body.conditions.model_dump(mode="json", exclude_defaults=True),
        "delay_seconds": body.delay_seconds,
        "channel": body.channel,
        "template_id": body.template_id,
        "coupon_offer_id": body.actions.coupon_offer_id,
        "request_review": body.actions.request_review,
        "holdout_percent": body.holdout_percent,
        "enabled": body.enabled,
    }


async def create_trigger(session: AsyncSession, body: TriggerIn) -> TriggerPublic:
    await _check(session, body)
    now = datetime.now(UTC)
    row = (
        await session.execute(
            triggers.insert()
            .values(id=uuid.uuid4(), **_values(body), version=1, created_at=now, updated_at=now)
            .returning(*triggers.c)
        )
    ).one()
    return trigger_public(row)


async def trigger_row(session: AsyncSession, trigger_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = select(triggers).where(triggers.c.id == trigger_id)
    row = (await session.execute(query.with_for_update() if lock else query)).one_or_none()
    if row is None:
        raise NotFound("Trigger", trigger_id)
    return row


async def get_trigger(session: AsyncSession, trigger_id: uuid.UUID) -> TriggerPublic:
    return trigger_public(await trigger_row(session, trigger_id))


async def replace_trigger(session: AsyncSession, trigger_id: uuid.UUID, body: TriggerIn, version: int) -> TriggerPublic:
    await _check(session, body)
    row = (
        await session.execute(
            triggers.update()
            .where(triggers.c.id == trigger_id, triggers.c.version == version)
            .values(**_values(body), version=triggers.c.version + 1, updated_at=datetime.now(UTC))
            .returning(*triggers.c)
        )
    ).one()
    return trigger_public(row)


async def set_enabled(session: AsyncSession, trigger_id: uuid.UUID, enabled: bool) -> TriggerPublic:
    row = await trigger_row(session, trigger_id, lock=True)
    action = "enable" if enabled else "disable"
    current = "enabled" if row.enabled else "disabled"
    if row.enabled == enabled:
        raise IllegalTransition("trigger", action, current, ["disable" if row.enabled else "enable"])
    if enabled and row.template_id is None:
        raise IllegalTransition(
            "trigger",
            action,
            current,
            [],
            detail="A ready-made trigger needs a template first: replace it (PUT) with a template_id, then enable it.",
        )
    updated = (
        await session.execute(
            triggers.update()
            .where(triggers.c.id == trigger_id)
            .values(enabled=enabled, version=triggers.c.version + 1, updated_at=datetime.now(UTC))
            .returning(*triggers.c)
        )
    ).one()
    return trigger_public(updated)


async def list_triggers(
    session: AsyncSession, *, enabled: bool | None, limit: int, cursor: str | None
) -> TriggersPublic:
    query = select(triggers)
    if enabled is not None:
        query = query.where(triggers.c.enabled == enabled)
    page = await paginate(
        session,
        query,
        keys=[triggers.c.created_at, triggers.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=trigger_public,
    )
    return TriggersPublic(items=page.items, next_cursor=page.next_cursor)
