"""Payload models, one module per producing service."""

from .customers import CustomerRegisteredV1

__all__ = ["CustomerRegisteredV1"]
