"""What the use cases refuse, as exceptions of their own (``api/problems.py`` maps each to
its RFC 9457 problem). The state machine's and the returns' refusals are the domain's:
``domain.states.IllegalTransition`` and ``domain.returns.ReturnError``."""

from __future__ import annotations

import uuid

__all__ = ["NotFound", "InvalidLines", "DuplicateSku", "PriceScaleError"]


class NotFound(LookupError):
    """No ``what`` (Order, Product, Return, Import, Customer) with this id."""

    def __init__(self, what: str, ident: object, detail: str | None = None) -> None:
        super().__init__(detail or f"No {what.lower()} with id {ident}.")
        self.what, self.ident = what, ident


class InvalidLines(ValueError):
    """Order lines that name no active product in the order's currency; ``errors`` names each."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("Some lines do not name an active product in the order's currency.")
        self.errors = errors


class DuplicateSku(ValueError):
    def __init__(self, sku: str, existing_id: uuid.UUID) -> None:
        super().__init__(f"A product with SKU {sku} exists.")
        self.existing_id = existing_id


class PriceScaleError(ValueError):
    """A changed price has more decimal places than the product's currency (known only with the row)."""

    def __init__(self, field: str, currency: str) -> None:
        super().__init__(f"{field} has more decimal places than {currency} allows.")
        self.field, self.currency = field, currency
