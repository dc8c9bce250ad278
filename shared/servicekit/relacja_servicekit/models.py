"""Base for response models read straight from SQLAlchemy Core rows."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel

__all__ = ["RowModel"]


class RowModel(BaseModel):
    @classmethod
    def from_row(cls, row: Any) -> Self:
        """The model of a result row whose column names are the model's field names."""
        return cls.model_validate(dict(row._mapping))
