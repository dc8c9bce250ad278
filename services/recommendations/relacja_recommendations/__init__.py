"""Relacja recommendations: products bought together, cross-sell and up-sell suggestions."""
