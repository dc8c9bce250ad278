"""``/api/v1/products``: the catalog.

    POST  /api/v1/products          create (Idempotency-Key); 409 on a duplicate SKU
    GET   /api/v1/products/{id}     one product with its ETag
    PATCH /api/v1/products/{id}     change name, category, prices, tax rate, active (If-Match required)
    GET   /api/v1/products          list and search (?q=, category, active), by SKU, cursor-paginated

SKU and currency never change (orders and analytics key on the SKU; a price in another
currency is another product). A price change affects orders placed afterwards only:
every order line keeps the price, cost and tax rate it was placed with.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, func, insert, or_, select, update

from relacja_contracts.money import Amount, CurrencyCode
from relacja_servicekit import Problem, SessionDep
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim, fingerprint, remember
from relacja_servicekit.models import RowModel
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam, paginate
from relacja_servicekit.validation import RequireJson

from ..domain.money import has_valid_scale, round_money
from ..tables import products
from .common import PROBLEM, IfMatchHeader, check_if_match, etag, not_found

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/products", tags=["products"], dependencies=[RequireJson])

_CREATE_SCOPE = "products.create"

Price = Annotated[Decimal, Field(ge=0, le=Decimal("99999999999999"), allow_inf_nan=False)]
TaxRate = Annotated[Decimal, Field(ge=0, le=1, max_digits=5, decimal_places=4, description="e.g. 0.23 for 23 % VAT")]


class _PriceChecks(BaseModel):
    def _check_scales(self, currency: str) -> None:
        for name in ("list_price", "unit_cost"):
            value = getattr(self, name, None)
            if value is not None and not has_valid_scale(value, currency):
                raise ValueError(f"{name} has more decimal places than {currency} allows")


class ProductCreate(_PriceChecks):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64, pattern=r"^\S+$")
    name: str = Field(min_length=1, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    list_price: Price = Field(description="Price per unit, tax excluded (decimal string)")
    unit_cost: Price | None = Field(default=None, description="Cost per unit (for margin)")
    tax_rate: TaxRate = Decimal("0")
    currency: CurrencyCode
    active: bool = True

    @model_validator(mode="after")
    def _scales(self) -> ProductCreate:
        self._check_scales(self.currency)
        return self


class ProductPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=300)
    category: str | None = Field(default=None, max_length=100)
    list_price: Price | None = None
    unit_cost: Price | None = None
    tax_rate: TaxRate | None = None
    active: bool | None = None


class ProductPublic(RowModel):
    id: uuid.UUID
    sku: str
    name: str
    category: str | None
    list_price: Amount
    unit_cost: Amount | None
    tax_rate: Amount
    currency: str
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProductsPublic(BaseModel):
    items: list[ProductPublic]
    next_cursor: str | None


def _public(row: Any) -> ProductPublic:
    """Prices with the currency's digits ("19.99", not the column's "19.9900"), the tax rate without trailing zeros."""
    data = dict(row._mapping)
    for name in ("list_price", "unit_cost"):
        if data[name] is not None:
            data[name] = round_money(data[name], row.currency)
    data["tax_rate"] = data["tax_rate"].normalize()
    return ProductPublic.model_validate(data)


@router.post(
    "",
    status_code=201,
    response_model=ProductPublic,
    summary="Create a product",
    responses={409: {"description": "Duplicate SKU", **PROBLEM}, 422: {"description": "Invalid body", **PROBLEM}},
)
async def create_product(body: ProductCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    async with session.begin():
        if idempotency_key:
            stored = await claim(session, scope=_CREATE_SCOPE, key=idempotency_key, fingerprint=fingerprint(body.model_dump(mode="json")))
            if stored:
                return stored.to_response()
        existing = await session.scalar(select(products.c.id).where(products.c.sku == body.sku))
        if existing is not None:
            raise Problem(409, "Duplicate SKU", f"A product with SKU {body.sku} exists.", type_="duplicate-sku", extra={"existing_id": str(existing)})
        row = (await session.execute(insert(products).values(id=uuid.uuid4(), **body.model_dump()).returning(*products.c))).one()
        payload = _public(row).model_dump(mode="json")
        headers = {"Location": f"/api/v1/products/{row.id}", "ETag": etag(row.version)}
        if idempotency_key:
            await remember(session, _CREATE_SCOPE, idempotency_key, status_code=201, body=payload, headers=headers)
    return JSONResponse(payload, status_code=201, headers=headers)


@router.get("/{product_id}", response_model=ProductPublic, summary="Get a product", responses={404: {"description": "No such product", **PROBLEM}})
async def get_product(product_id: uuid.UUID, session: SessionDep, response: Response) -> ProductPublic:
    row = (await session.execute(select(products).where(products.c.id == product_id))).first()
    if row is None:
        raise not_found("Product", product_id)
    response.headers["ETag"] = etag(row.version)
    return _public(row)


@router.patch(
    "/{product_id}",
    response_model=ProductPublic,
    summary="Change a product (If-Match required); past orders keep their prices",
    responses={404: {"description": "No such product", **PROBLEM}, 412: {"description": "Stale If-Match", **PROBLEM},
               428: {"description": "If-Match missing", **PROBLEM}},
)
async def update_product(product_id: uuid.UUID, body: ProductPatch, session: SessionDep, if_match: IfMatchHeader = None) -> JSONResponse:
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "list_price", "tax_rate", "active"):
        if name in changes and changes[name] is None:
            raise Problem(422, "Validation failed", f"{name} cannot be null.", type_="validation-error",
                          errors=[{"field": f"body.{name}", "message": "cannot be null"}])
    async with session.begin():
        row = (await session.execute(select(products).where(products.c.id == product_id).with_for_update())).first()
        if row is None:
            raise not_found("Product", product_id)
        check_if_match(if_match, row.version, required=True)
        for name in ("list_price", "unit_cost"):
            if changes.get(name) is not None and not has_valid_scale(changes[name], row.currency):
                raise Problem(422, "Validation failed", f"{name} has more decimal places than {row.currency} allows.",
                              type_="validation-error", errors=[{"field": f"body.{name}", "message": f"too many decimal places for {row.currency}"}])
        if any(getattr(row, name) != value for name, value in changes.items()):
            row = (
                await session.execute(
                    update(products).where(products.c.id == product_id)
                    .values(**changes, version=products.c.version + 1, updated_at=func.now()).returning(*products.c)
                )
            ).one()
    return JSONResponse(_public(row).model_dump(mode="json"), headers={"ETag": etag(row.version)})


@router.get("", response_model=ProductsPublic, summary="List and search products by SKU (cursor-paginated)")
async def list_products(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Part of the SKU or name (case-insensitive)")] = None,
    category: str | None = None,
    active: bool | None = None,
) -> Any:
    conditions = []
    if q is not None:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(or_(products.c.sku.ilike(pattern, escape="\\"), products.c.name.ilike(pattern, escape="\\")))
    if category is not None:
        conditions.append(products.c.category == category)
    if active is not None:
        conditions.append(products.c.active == active)
    return await paginate(
        session, select(products).where(and_(True, *conditions)), keys=[products.c.sku], limit=limit, cursor=cursor,
        sort="sku", to_item=_public,
    )
