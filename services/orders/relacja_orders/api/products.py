"""``/api/v1/products``: the catalog (HTTP; the use cases are in ``app/products.py``).

POST  /api/v1/products          create (Idempotency-Key); 409 on a duplicate SKU
GET   /api/v1/products/{id}     one product with its ETag
PATCH /api/v1/products/{id}     change name, category, prices, tax rate, active (If-Match required)
GET   /api/v1/products          list and search (?q=, category, active), by SKU, cursor-paginated
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from relacja_servicekit import SessionDep
from relacja_servicekit.etags import RequiredIfMatchHeader, check_if_match, etag
from relacja_servicekit.idempotency import IdempotencyKeyHeader, claim_request, created_response
from relacja_servicekit.openapi import problem_responses
from relacja_servicekit.pagination import DEFAULT_LIMIT, CursorParam, LimitParam
from relacja_servicekit.validation import RequireJson

from ..app import products
from ..app.schemas import ProductCreate, ProductPatch, ProductPublic, ProductsPublic, product_public
from .problems import app_errors

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/products", tags=["products"], dependencies=[RequireJson])

_CREATE_SCOPE = "products.create"


@router.post(
    "",
    status_code=201,
    response_model=ProductPublic,
    summary="Create a product",
    responses=problem_responses({409: "Another product has this SKU (duplicate-sku; `existing_id` names it)"}),
)
async def create_product(
    body: ProductCreate, session: SessionDep, idempotency_key: IdempotencyKeyHeader = None
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            if stored := await claim_request(session, _CREATE_SCOPE, idempotency_key, body):
                return stored.to_response()
            product = await products.create_product(session, body)
            return await created_response(
                session,
                _CREATE_SCOPE,
                idempotency_key,
                product.model_dump(mode="json"),
                location=f"{router.prefix}/{product.id}",
                version=product.version,
            )


@router.get(
    "/{product_id}",
    response_model=ProductPublic,
    summary="Get a product",
    responses=problem_responses({404: "No such product"}),
)
async def get_product(product_id: uuid.UUID, session: SessionDep, response: Response) -> Any:
    with app_errors():
        row = await products.get_product(session, product_id)
    response.headers["ETag"] = etag(row.version)
    return product_public(row)


@router.patch(
    "/{product_id}",
    response_model=ProductPublic,
    summary="Change a product (If-Match required); past orders keep their prices",
    responses=problem_responses(
        {404: "No such product"}, {422: "Invalid body, or a price with more decimals than the product's currency"}
    ),
)
async def update_product(
    product_id: uuid.UUID, body: ProductPatch, session: SessionDep, if_match: RequiredIfMatchHeader
) -> JSONResponse:
    with app_errors():
        async with session.begin():
            row = await products.get_product(session, product_id, for_update=True)
            check_if_match(if_match, row.version, required=True, what="product")
            product = await products.update_product(session, row, body.model_dump(exclude_unset=True))
    return JSONResponse(product.model_dump(mode="json"), headers={"ETag": etag(product.version)})


@router.get("", response_model=ProductsPublic, summary="List and search products by SKU (cursor-paginated)")
async def list_products(
    session: SessionDep,
    limit: LimitParam = DEFAULT_LIMIT,
    cursor: CursorParam = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=100, description="Part of the SKU or name (case-insensitive)")
    ] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    active: bool | None = None,
) -> Any:
    return await products.list_products(session, q=q, category=category, active=active, limit=limit, cursor=cursor)
