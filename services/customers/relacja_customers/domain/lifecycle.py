"""The lifecycle stage of a customer: lead → prospect → customer → inactive.

Allowed moves (the same by hand — ``PATCH``, bulk import — and automatic)::

    lead      → prospect | customer | inactive     qualified; bought at once; disqualified
    prospect  → customer | inactive                bought; lost
    customer  → inactive                           stopped buying
    inactive  → prospect | customer                re-engaged; won back

Staying in the same stage is always allowed (a no-op). ``lead`` is the entry stage only:
nothing moves back to it. Every other stage can be reached from any stage in at most two
moves, so a stage set by mistake can be corrected by hand (``customer → prospect`` goes
through ``inactive``) — but never backwards in one silent step, which would corrupt
funnel statistics.

Automatic moves (``stage_after``) react to the customer's own events. Today no
producer of those events exists: ``order_placed`` comes with the orders service (issue
4) and ``inactivity_detected`` with churn scoring; the handlers will call
``stage_after`` and write the result through the same update path as ``PATCH``.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ALLOWED_MOVES", "STAGES", "Stage", "Trigger", "can_move", "stage_after", "more_advanced"]

Stage = Literal["lead", "prospect", "customer", "inactive"]
Trigger = Literal["order_placed", "inactivity_detected", "lead_converted"]

STAGES: tuple[Stage, ...] = ("lead", "prospect", "customer", "inactive")

ALLOWED_MOVES: dict[Stage, frozenset[Stage]] = {
    "lead": frozenset({"prospect", "customer", "inactive"}),
    "prospect": frozenset({"customer", "inactive"}),
    "customer": frozenset({"inactive"}),
    "inactive": frozenset({"prospect", "customer"}),
}

# How far a relationship has gone; ``inactive`` ranks above ``prospect`` because an
# inactive customer has bought before. Used when two records are merged.
_RANK: dict[Stage, int] = {"lead": 0, "prospect": 1, "inactive": 2, "customer": 3}


def can_move(current: Stage, target: Stage) -> bool:
    return current == target or target in ALLOWED_MOVES[current]


def stage_after(current: Stage, trigger: Trigger) -> Stage:
    """The stage a customer's own event moves it to (unchanged when the event does not apply).

    - ``order_placed``: any placed order makes a lead, prospect or inactive customer a
      ``customer`` (the first order, or a win-back).
    - ``inactivity_detected``: a ``customer`` with no purchase in the churn window becomes
      ``inactive``; other stages are not affected.
    - ``lead_converted``: the sales service converted the lead into an opportunity: a
      ``lead`` becomes a ``prospect``; a customer who moved on meanwhile stays where it is.
    """
    if trigger == "order_placed":
        return "customer"
    if trigger == "inactivity_detected" and current == "customer":
        return "inactive"
    if trigger == "lead_converted" and current == "lead":
        return "prospect"
    return current


def more_advanced(a: Stage, b: Stage) -> Stage:
    """The stage of the relationship that went further (``customer`` > ``inactive`` > ``prospect`` > ``lead``)."""
    return a if _RANK[a] >= _RANK[b] else b
