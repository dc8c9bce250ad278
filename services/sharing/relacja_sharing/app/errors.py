"""What the use cases refuse, as exceptions of their own (``api/problems.py`` maps each to
its RFC 9457 problem). State machines refuse with ``domain.states.IllegalTransition``."""

from __future__ import annotations

__all__ = ["FeedGone", "InvalidAgreement", "InvalidContribution", "InvalidKey", "NotFound", "PartnerUnavailable"]


class NotFound(LookupError):
    """No ``what`` (Partner, Key, Agreement, Customer) with this id — or not one the caller may see."""

    def __init__(self, what: str, ident: object) -> None:
        # ``ident`` None: the id came in a request body, and the answer must not tell another
        # partner's id from one that does not exist (not even by echoing it).
        super().__init__(
            f"No {what.lower()} with id {ident}." if ident is not None else f"No such {what.lower()} of yours."
        )
        self.what, self.ident = what, ident


class InvalidAgreement(ValueError):
    """An agreement's terms that cannot work (unknown event type or field, window ending before it starts)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class InvalidContribution(ValueError):
    """A contribution the agreement does not allow, or about a customer the partner was not given (422)."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


class PartnerUnavailable(PermissionError):
    """The partner or the agreement is not active: ``what`` (partner, agreement) is in ``status``."""

    def __init__(self, what: str, status: str) -> None:
        super().__init__(f"The {what} is {status}.")
        self.what, self.status = what, status


class FeedGone(LookupError):
    """The agreement was terminated: its feed is gone (410)."""

    def __init__(self, agreement_id: object) -> None:
        super().__init__(f"Agreement {agreement_id} was terminated; its feed is no longer served.")
        self.agreement_id = agreement_id


class InvalidKey(PermissionError):
    """A partner API key that is malformed, unknown or revoked (401; the reason is not told)."""
