"""Card numbers: 16 digits, the last a Luhn check digit (ISO/IEC 7812), so a mistyped
digit or two swapped neighbours are caught before a look-up. 15 random digits from the
CSPRNG: a collision is caught by the unique index."""

from __future__ import annotations

import secrets
from collections.abc import Callable

__all__ = ["luhn_valid", "new_card_number"]


def _luhn_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10


def new_card_number(randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    body = "".join(str(randbelow(10)) for _ in range(15))
    return body + str(_luhn_digit(body))


def luhn_valid(number: str) -> bool:
    return number.isdigit() and len(number) >= 2 and _luhn_digit(number[:-1]) == int(number[-1])
