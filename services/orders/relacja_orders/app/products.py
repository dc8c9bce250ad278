"""The catalog: create, read, change and search products.

    create_product(session, command)                   → ProductPublic; DuplicateSku
    get_product(session, id, for_update=)              → the row (locked for an update); NotFound
    update_product(session, row, changes)              → ProductPublic (a new version only if something changed)
    list_products(session, q, category, active, ...)   → a page by SKU

SKU and currency never change (orders and analytics key on the SKU; a price in another
currency is another product). A price change affects orders placed afterwards only:
every order line keeps the price, cost and tax rate it was placed with.

Every create and every edit that changes something writes ``ProductChangedV1`` (the whole
product after it) through the outbox, in the transaction of the change, so analytical
services (recommendations) know names, categories, prices and what is no longer sold.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from relacja_contracts.events.orders import ProductChangedV1
from relacja_messaging import Outbox
from relacja_servicekit.pagination import Page, paginate

from ..domain.money import has_valid_scale, round_money
from ..settings import EVENT_SOURCE
from ..tables import products
from .errors import DuplicateSku, NotFound, PriceScaleError
from .schemas import ProductCreate, ProductPublic, product_public

__all__ = ["create_product", "get_product", "update_product", "list_products"]

# The catalogue's own writer (the order events have theirs in events.py): same source, same outbox table.
_outbox = Outbox(EVENT_SOURCE)


async def _emit_changed(session: AsyncSession, row: Any) -> None:
    await _outbox.add(
        session,
        ProductChangedV1(
            product_id=row.id,
            sku=row.sku,
            name=row.name,
            category=row.category,
            list_price=round_money(row.list_price, row.currency),
            unit_cost=None if row.unit_cost is None else round_money(row.unit_cost, row.currency),
            currency=row.currency,
            active=row.active,
            version=row.version,
            occurred_at=row.updated_at,
        ),
    )


async def create_product(session: AsyncSession, command: ProductCreate) -> ProductPublic:
    existing = await session.scalar(select(products.c.id).where(products.c.sku == command.sku))
    if existing is not None:
        raise DuplicateSku(command.sku, existing)
    row = (
        await session.execute(insert(products).values(id=uuid.uuid4(), **command.model_dump()).returning(*products.c))
    ).one()
    await _emit_changed(session, row)
    return product_public(row)


async def get_product(session: AsyncSession, product_id: uuid.UUID, *, for_update: bool = False) -> Any:
    query = select(products).where(products.c.id == product_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound("Product", product_id)
    return row


async def update_product(session: AsyncSession, row: Any, changes: dict[str, Any]) -> ProductPublic:
    """Apply ``changes`` (the patch's fields that were sent) to the locked ``row``."""
    for name in ("list_price", "unit_cost"):
        if changes.get(name) is not None and not has_valid_scale(changes[name], row.currency):
            raise PriceScaleError(name, row.currency)
    if any(getattr(row, name) != value for name, value in changes.items()):
        row = (
            await session.execute(
                update(products)
                .where(products.c.id == row.id)
                .values(**changes, version=products.c.version + 1, updated_at=func.now())
                .returning(*products.c)
            )
        ).one()
        await _emit_changed(session, row)
    return product_public(row)


async def list_products(
    session: AsyncSession, *, q: str | None, category: str | None, active: bool | None, limit: int, cursor: str | None
) -> Page[ProductPublic]:
    conditions = []
    if q is not None:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(products.c.sku.ilike(pattern, escape="\\"), products.c.name.ilike(pattern, escape="\\")))
    if category is not None:
        conditions.append(products.c.category == category)
    if active is not None:
        conditions.append(products.c.active == active)
    return await paginate(
        session,
        select(products).where(and_(True, *conditions)),
        keys=[products.c.sku],
        limit=limit,
        cursor=cursor,
        sort="sku",
        to_item=product_public,
    )
