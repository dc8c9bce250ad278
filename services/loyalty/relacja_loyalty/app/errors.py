"""What the use cases refuse (``api/problems.py`` maps each to its RFC 9457 problem).
The ledger's own refusal is the domain's ``InsufficientPoints``; an offer's is ``OfferProblem``."""

from __future__ import annotations

import uuid

__all__ = ["AlreadyEnrolled", "IllegalTransition", "InvalidReference", "NotFound", "RewardNotAvailable"]


class NotFound(LookupError):
    """No ``what`` (Programme, Member, Offer, Reward, Coupon) with this id."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"No {what.lower()} with id {ident}.")
        self.what, self.ident = what, ident


class InvalidReference(ValueError):
    """A body field names something that does not exist or does not fit (422 naming the field)."""

    def __init__(self, field: str, message: str, *, type_: str = "invalid-reference") -> None:
        super().__init__(message)
        self.field, self.type_ = field, type_


class AlreadyEnrolled(ValueError):
    def __init__(self, member_id: uuid.UUID) -> None:
        super().__init__(f"The customer is already a member of this programme ({member_id}).")
        self.member_id = member_id


class IllegalTransition(ValueError):
    """An action the member's status does not allow (409 naming the status and the allowed actions)."""

    def __init__(self, action: str, current: str, allowed: list[str]) -> None:
        super().__init__(f"Cannot {action} a member whose status is {current}.")
        self.action, self.current, self.allowed_actions = action, current, allowed


class RewardNotAvailable(ValueError):
    """The reward is for another programme or another tier (409)."""
