"""Satisfaction surveys: CSAT after a resolved ticket (1–5), NPS for any customer (0–10).

A survey is answered with a one-time token: 32 random bytes (URL-safe base64), of which
only the SHA-256 is stored, so a database dump cannot be used to answer surveys. The
token is shown once, in the response that issued it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["SCALES", "SurveyKind", "Scale", "new_token", "token_hash", "answer_problem"]

SurveyKind = Literal["csat", "nps"]


@dataclass(frozen=True)
class Scale:
    low: int
    high: int
    question: str


SCALES: dict[str, Scale] = {
    "csat": Scale(
        1, 5, "How satisfied are you with how we handled your request? (1 = very dissatisfied, 5 = very satisfied)"
    ),
    "nps": Scale(
        0, 10, "How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely likely)"
    ),
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def answer_problem(*, answered_at: datetime | None, expires_at: datetime, now: datetime) -> str | None:
    """Why a survey can no longer be answered (``answered`` or ``expired``), or None if it can."""
    if answered_at is not None:
        return "answered"
    if now >= expires_at:
        return "expired"
    return None
