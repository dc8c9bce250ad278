"""What the recommendations use cases refuse; api/problems.py maps each to its RFC 9457 problem.

ProductNotFound       no such product in the projection              → 404 not-found
CustomerNotFound      no such customer (or erased)                   → 404 not-found
CustomerMerged        the id was merged into another customer        → 404 customer-merged (merged_into)
EvaluationNotFound    no evaluation with the id                      → 404 not-found
InvalidSplit          the split time leaves no training or test data → 422 invalid-split (body.split_at)
"""

from __future__ import annotations

import uuid

__all__ = ["CustomerMerged", "CustomerNotFound", "EvaluationNotFound", "InvalidSplit", "ProductNotFound"]


class ProductNotFound(Exception):
    def __init__(self, product_id: uuid.UUID) -> None:
        super().__init__(f"No product {product_id} is known to the recommendations service.")


class CustomerNotFound(Exception):
    def __init__(self, customer_id: uuid.UUID, erased: bool = False) -> None:
        reason = "was erased" if erased else "does not exist"
        super().__init__(f"Customer {customer_id} {reason}.")


class CustomerMerged(Exception):
    def __init__(self, customer_id: uuid.UUID, merged_into: uuid.UUID) -> None:
        self.merged_into = merged_into
        super().__init__(f"Customer {customer_id} was merged into {merged_into}; ask for that customer.")


class EvaluationNotFound(Exception):
    def __init__(self, evaluation_id: uuid.UUID) -> None:
        super().__init__(f"No evaluation with id {evaluation_id}.")


class InvalidSplit(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
