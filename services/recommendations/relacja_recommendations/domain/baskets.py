"""What an order puts in a basket: its distinct products still kept.

An order snapshot (every order event carries the whole order) gives the basket
``{product_id: units kept}``: lines with a catalogue product (imported lines without one
have no product to suggest), units ordered minus units returned, only those with units
left. A cancelled order buys nothing: its basket is empty. A product on two lines is
one basket entry with the units summed.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Protocol

__all__ = ["LineLike", "kept_products"]


class LineLike(Protocol):
    @property
    def product_id(self) -> Hashable | None: ...
    @property
    def quantity(self) -> int: ...
    @property
    def returned_quantity(self) -> int: ...


def kept_products(status: str, lines: Iterable[LineLike]) -> dict[Hashable, int]:
    if status == "cancelled":
        return {}
    kept: dict[Hashable, int] = {}
    for line in lines:
        if line.product_id is None:
            continue
        units = line.quantity - line.returned_quantity
        if units > 0:
            kept[line.product_id] = kept.get(line.product_id, 0) + units
    return kept
