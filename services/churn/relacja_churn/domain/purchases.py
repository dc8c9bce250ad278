"""Which orders are purchase occasions for the models and the KPIs (docs/churn.md).

In BG/NBD a purchase occasion is a transaction, whatever its value (Fader, Hardie & Lee
2005 count CDNOW's zero-value purchases too): every order that is not cancelled and not
fully returned counts, a free or fully discounted one included. Only the spend model
(Gamma-Gamma) is limited to positive amounts, and it limits itself
(``models.gamma_gamma.fit_gamma_gamma`` fits customers with x > 0 and m̄ > 0).

An order is **fully returned** when every unit of every line came back. An order without
lines (an import that gave only a total) can be returned only by amount: it is fully
returned when a positive returned amount reaches its gross amount. A zero-priced order
with nothing returned is therefore a purchase, never mistaken for a returned one — which
the net amount alone (gross − returned = 0 in both cases) could not tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

__all__ = ["OrderLike", "is_fully_returned"]


class _LineLike(Protocol):
    @property
    def quantity(self) -> int: ...
    @property
    def returned_quantity(self) -> int: ...


class OrderLike(Protocol):
    """The fields of an order snapshot (``relacja_contracts`` ``_OrderSnapshot``) the rule reads."""

    @property
    def lines(self) -> Sequence[_LineLike]: ...
    @property
    def gross_amount(self) -> Decimal: ...
    @property
    def returned_amount(self) -> Decimal: ...


def is_fully_returned(order: OrderLike) -> bool:
    if order.lines:
        return all(line.returned_quantity >= line.quantity for line in order.lines)
    return order.returned_amount > 0 and order.returned_amount >= order.gross_amount
