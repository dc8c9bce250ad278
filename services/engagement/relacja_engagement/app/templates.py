"""Templates: create, replace (If-Match), read, preview. Each variant is checked at save time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_servicekit.pagination import paginate

from ..domain import templating
from ..tables import known_customers, templates
from .errors import InvalidField, NotFound
from .schemas import PreviewIn, PreviewPublic, TemplateIn, TemplatePublic, TemplatesPublic

__all__ = [
    "template_public",
    "create_template",
    "get_template",
    "list_templates",
    "preview",
    "replace_template",
    "template_row",
]


def _check(body: TemplateIn) -> None:
    languages = [v.language for v in body.variants]
    for index, language in enumerate(languages):
        if language in languages[:index]:
            raise InvalidField(f"variants.{index}.language", f"Language {language} has two variants.")
    if body.fallback_language not in languages:
        raise InvalidField("fallback_language", "The fallback language must be one of the variants.")
    for index, variant in enumerate(body.variants):
        if body.channel == "email" and variant.subject is None:
            raise InvalidField(f"variants.{index}.subject", "An e-mail template needs a subject.")
        for part in ("subject", "body"):
            source = getattr(variant, part)
            if source is None:
                continue
            problems = templating.check(source)
            if problems:
                raise InvalidField(
                    f"variants.{index}.{part}", "; ".join(p.message for p in problems), type_="invalid-template"
                )


def template_public(row: Any) -> TemplatePublic:
    data = dict(row._mapping)
    data["variants"] = [{"language": language, **variant} for language, variant in row.variants.items()]
    return TemplatePublic.model_validate(data)


def _values(body: TemplateIn) -> dict[str, Any]:
    return {
        "name": body.name,
        "channel": body.channel,
        "purpose": body.purpose,
        "fallback_language": body.fallback_language,
        # Stored by language: the sender picks one by the customer's preference.
        "variants": {v.language: v.model_dump(exclude_none=True, exclude={"language"}) for v in body.variants},
    }


async def create_template(session: AsyncSession, body: TemplateIn) -> TemplatePublic:
    _check(body)
    now = datetime.now(UTC)
    row = (
        await session.execute(
            templates.insert()
            .values(id=uuid.uuid4(), **_values(body), version=1, created_at=now, updated_at=now)
            .returning(*templates.c)
        )
    ).one()
    return template_public(row)


async def template_row(session: AsyncSession, template_id: uuid.UUID, *, lock: bool = False) -> Any:
    query = select(templates).where(templates.c.id == template_id)
    row = (await session.execute(query.with_for_update() if lock else query)).one_or_none()
    if row is None:
        raise NotFound("Template", template_id)
    return row


async def get_template(session: AsyncSession, template_id: uuid.UUID) -> TemplatePublic:
    return template_public(await template_row(session, template_id))


async def replace_template(session: AsyncSession, template_id: uuid.UUID, body: TemplateIn, version: int) -> Any:
    """Replace a template (the caller checked If-Match against ``version``)."""
    _check(body)
    row = (
        await session.execute(
            templates.update()
            .where(templates.c.id == template_id, templates.c.version == version)
            .values(**_values(body), version=templates.c.version + 1, updated_at=datetime.now(UTC))
            .returning(*templates.c)
        )
    ).one()
    return template_public(row)


async def list_templates(session: AsyncSession, *, limit: int, cursor: str | None) -> TemplatesPublic:
    page = await paginate(
        session,
        select(templates),
        keys=[templates.c.created_at, templates.c.id],
        limit=limit,
        cursor=cursor,
        descending=True,
        to_item=template_public,
    )
    return TemplatesPublic(items=page.items, next_cursor=page.next_cursor)


def customer_variables(customer: Any) -> dict[str, Any]:
    """The ``customer`` variable from a known_customers row (None fields become empty strings)."""
    fields = ("display_name", "given_name", "email", "phone", "preferred_language")
    return {name: (getattr(customer, name) or "") for name in fields}


async def preview(session: AsyncSession, template_id: uuid.UUID, body: PreviewIn) -> PreviewPublic:
    row = await template_row(session, template_id)
    variables = templating.sample_variables()
    preferred = body.language
    if body.customer_id is not None:
        customer = (
            await session.execute(select(known_customers).where(known_customers.c.customer_id == body.customer_id))
        ).one_or_none()
        if customer is None:
            raise InvalidField("customer_id", "This service has not heard of that customer.", type_="unknown-customer")
        variables["customer"] = customer_variables(customer)
        preferred = preferred or customer.preferred_language
    if body.coupon_code is not None:
        variables["coupon_code"] = body.coupon_code
    if body.event is not None:
        variables["event"] = {**variables["event"], **body.event}
    language = templating.pick_language(row.variants, preferred, row.fallback_language)
    variant = row.variants[language]
    try:
        subject = templating.render(variant["subject"], variables) if variant.get("subject") else None
        text = templating.render(variant["body"], variables)
    except Exception as exc:
        raise InvalidField("event", f"The template does not render with these values: {exc}") from None
    return PreviewPublic(language=language, subject=subject, body=text)
