"""The recommendations use cases' refusals as RFC 9457 problems, in one place for every route module.

with app_errors():         ProductNotFound, CustomerNotFound, EvaluationNotFound → 404 not-found
    ...call app...         CustomerMerged → 404 customer-merged (merged_into)
                           InvalidSplit   → 422 invalid-split (errors: body.split_at)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from relacja_servicekit import Problem

from ..app.errors import CustomerMerged, CustomerNotFound, EvaluationNotFound, InvalidSplit, ProductNotFound

__all__ = ["app_errors"]


def _problem(err: Exception) -> Problem:
    if isinstance(err, ProductNotFound):
        return Problem(404, "Product not found", str(err), type_="not-found")
    if isinstance(err, CustomerNotFound):
        return Problem(404, "Customer not found", str(err), type_="not-found")
    if isinstance(err, CustomerMerged):
        return Problem(
            404, "Customer merged", str(err), type_="customer-merged", extra={"merged_into": str(err.merged_into)}
        )
    if isinstance(err, EvaluationNotFound):
        return Problem(404, "Evaluation not found", str(err), type_="not-found")
    if isinstance(err, InvalidSplit):
        return Problem(
            422,
            "Split outside the data",
            str(err),
            type_="invalid-split",
            errors=[{"field": "body.split_at", "message": str(err)}],
        )
    raise TypeError(f"no problem for {type(err).__name__}")


@contextmanager
def app_errors() -> Iterator[None]:
    """Turn the use cases' refusals raised inside the block into their problems."""
    try:
        yield
    except (ProductNotFound, CustomerNotFound, CustomerMerged, EvaluationNotFound, InvalidSplit) as err:
        raise _problem(err) from None
