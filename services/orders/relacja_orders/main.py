"""The orders service process: HTTP API, the customers and coupons projection consumers and the outbox relay."""

from __future__ import annotations

from relacja_servicekit import create_service_app

from .api.drafts import router as drafts_router
from .api.imports import IMPORTS_PATH
from .api.imports import router as imports_router
from .api.orders import router as orders_router
from .api.products import router as products_router
from .api.returns import router as returns_router
from .api.summary import router as summary_router
from .consumers import CONSUMER_GROUP, COUPONS_CONSUMER_GROUP, coupon_handlers, handlers
from .settings import OrdersSettings

__all__ = ["app", "settings"]

settings = OrdersSettings()

app = create_service_app(
    name="orders",
    title="Relacja orders",
    description="Orders service: catalog, orders, payments state, returns and refunds, historical import.",
    settings=settings,
    # Fixed paths (/customers/..., /imports, /drafts) before the orders router's /{order_id}.
    routers=[summary_router, imports_router, drafts_router, products_router, returns_router, orders_router],
    body_limits={IMPORTS_PATH: settings.import_max_body_bytes},
    consumers={CONSUMER_GROUP: handlers, COUPONS_CONSUMER_GROUP: coupon_handlers},
)
