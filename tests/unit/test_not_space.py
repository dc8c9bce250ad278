"""``not_space``: one character class that means the same to pydantic's Rust regex, Python's
``re`` and the JSON Schema (ECMA-262) readers of the OpenAPI document (schemathesis found a
``\\s`` the document and the service read differently)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from relacja_servicekit.types import not_space

# ECMA-262 §12.2 WhiteSpace and §12.3 LineTerminator: what ``\s`` is to a JSON Schema reader.
ECMA_SPACE = {*"\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff", *map(chr, range(0x2000, 0x200B))}
# What pydantic (Rust regex, Unicode White_Space) and Python's ``re`` add to it.
ENGINES_ALSO = {"\u0085", *map(chr, range(0x1C, 0x20))}

one_char = TypeAdapter(Annotated[str, Field(pattern=f"^{not_space('@')}$")])


def _pydantic_accepts(value: str) -> bool:
    try:
        one_char.validate_python(value)
    except ValidationError:
        return False
    return True


def test_every_engine_refuses_ecma_space_and_nel_and_the_named_extra() -> None:
    for char in sorted(ECMA_SPACE | {"\u0085", "@"}):
        assert not _pydantic_accepts(char), repr(char)
        assert not re.fullmatch(not_space("@"), char), repr(char)


def test_pydantic_and_python_agree_on_every_other_character() -> None:
    python = re.compile(not_space("@"))
    for code in [*range(0x3100), 0xFEFF, 0x1F600]:
        char = chr(code)
        assert _pydantic_accepts(char) == bool(python.fullmatch(char)), hex(code)
    # U+001C-U+001F are space to Python's \s but not to ECMA's: the spelled-out class lets them through everywhere.
    assert all(_pydantic_accepts(char) for char in ENGINES_ALSO - {"\u0085"})
