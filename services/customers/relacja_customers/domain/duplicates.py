"""When two customer records are likely the same customer, and how sure that is.

Reasons, strongest first:

- ``email``: the same normalised e-mail address (score 1.0);
- ``phone``: the same phone number in E.164 (score 1.0);
- ``name``: similar display names — the ``pg_trgm`` ``similarity()`` of the folded names
  (shared trigrams / all trigrams, 0..1) is at least :data:`NAME_SIMILARITY_THRESHOLD`.
  0.6 keeps "Anna Kowalska" ~ "Anna Kowalski" (0.75) and "Ann Kowalska" (0.8), and drops
  "Anna Kowalska" ~ "Anna Nowak" (0.32) — first names are shared too widely to mean much
  on their own.

A record with a unique contact matched scores 1.0 whatever the names; otherwise its score
is the name similarity. Only records of the same kind are candidates. E-mail and phone are
unique among live records (409 on create and update), so in practice the contact reasons
appear only for data that bypassed those checks; similar names are what finds the
"Anna Kowalska" entered twice with two addresses.
"""

from __future__ import annotations

__all__ = ["NAME_SIMILARITY_THRESHOLD", "duplicate_score"]

NAME_SIMILARITY_THRESHOLD = 0.6


def duplicate_score(*, same_email: bool, same_phone: bool, name_similarity: float) -> tuple[float, list[str]]:
    """``(score, reasons)``; reasons is empty when the record is not a likely duplicate."""
    reasons = [name for name, hit in (("email", same_email), ("phone", same_phone)) if hit]
    if name_similarity >= NAME_SIMILARITY_THRESHOLD:
        reasons.append("name")
    if not reasons:
        return 0.0, []
    score = 1.0 if same_email or same_phone else name_similarity
    return round(score, 3), reasons
