"""Returns: which quantities may come back, and what they are worth.

A customer can never return more of a line than was bought: the units already returned
and those in return requests still waiting for a decision both count against it.

Value of returned units is computed cumulatively, so the rounding of partial returns adds
up exactly to the line: returning k units after r were returned is worth

    round(line_amount × (r + k) / quantity) − round(line_amount × r / quantity)

and the tax refunded is the same formula on the line's tax_amount. The refund is
value + tax (the customer paid tax on them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from .money import round_money

__all__ = ["ReturnError", "check_quantities", "return_value"]


class ReturnError(ValueError):
    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def check_quantities(
    lines: Sequence[Mapping[str, Any]], requested: Mapping[int, int], pending: Mapping[int, int]
) -> None:
    """Raise ``ReturnError`` unless every ``line_no → quantity`` in ``requested`` fits in
    what is left of the line after returns and ``pending`` requests."""
    by_no = {line["line_no"]: line for line in lines}
    errors = []
    for line_no, quantity in requested.items():
        line = by_no.get(line_no)
        if line is None:
            errors.append({"field": f"lines.{line_no}", "message": f"the order has no line {line_no}"})
            continue
        left = line["quantity"] - line.get("returned_quantity", 0) - pending.get(line_no, 0)
        if quantity > left:
            errors.append(
                {
                    "field": f"lines.{line_no}",
                    "message": f"cannot return {quantity} of line {line_no} ({line['sku']}): bought {line['quantity']}, "
                    f"returned {line.get('returned_quantity', 0)}, awaiting decision {pending.get(line_no, 0)}; at most {max(left, 0)} left",
                }
            )
    if errors:
        raise ReturnError(errors)


def return_value(line: Mapping[str, Any], quantity: int, currency: str) -> tuple[Decimal, Decimal]:
    """(value, tax) of returning ``quantity`` more units of ``line``."""
    before, after = line.get("returned_quantity", 0), line.get("returned_quantity", 0) + quantity

    def share(amount: Any, units: int) -> Decimal:
        return round_money(Decimal(amount) * units / line["quantity"], currency)

    value = share(line["line_amount"], after) - share(line["line_amount"], before)
    tax = share(line["tax_amount"], after) - share(line["tax_amount"], before)
    return value, tax
