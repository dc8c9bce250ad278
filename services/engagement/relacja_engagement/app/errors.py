"""What the use cases refuse (``api/problems.py`` maps each to its RFC 9457 problem)."""

from __future__ import annotations

__all__ = ["IllegalTransition", "InvalidField", "NotFound"]


class NotFound(LookupError):
    """No ``what`` (Template, Trigger, Campaign, Message) with this id."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(f"No {what.lower()} with id {ident}.")
        self.what, self.ident = what, ident


class InvalidField(ValueError):
    """A body field is wrong in a way its schema cannot say (422 naming the field)."""

    def __init__(self, field: str, message: str, *, type_: str = "validation-error") -> None:
        super().__init__(message)
        self.field, self.type_ = field, type_


class IllegalTransition(ValueError):
    """An action the resource's status does not allow (409 naming the status and the allowed actions)."""

    def __init__(self, what: str, action: str, current: str, allowed: list[str], detail: str | None = None) -> None:
        super().__init__(detail or f"Cannot {action} a {what} whose status is {current}.")
        self.action, self.current, self.allowed_actions = action, current, allowed
