"""Pipelines and their stages: what a valid stage list is, and which moves a deal may make.

A pipeline has ordered stages. Each stage has a win probability (0–100) and two flags:
``is_closed`` (a deal there is finished) and ``is_won`` (finished and won; implies
``is_closed``). A valid pipeline has at least one open stage, exactly one won stage (100 %)
and at least one closed, not won stage (lost, 0 %), names unique within the pipeline.

Deals move freely between open stages (forwards and back: real sales do). A closed stage is
reached only by the actions ``win`` (the won stage) and ``lose`` (a lost stage, with a loss
reason), never by ``move``: closing has side effects (a draft order, a loss reason) that a
plain move would skip. A closed deal is final.

Editing a pipeline renames stages, changes probabilities, reorders, adds and retires stages;
a retired stage keeps its row (history points at it) but takes no deal; a stage with open
deals cannot be retired. History rows keep the names and probabilities of the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["StageSpec", "StageError", "check_stages", "MoveError", "check_move"]


@dataclass(frozen=True)
class StageSpec:
    name: str
    probability: int
    is_won: bool = False
    is_closed: bool = False


class StageError(ValueError):
    """A stage list that breaks a rule; ``field`` names the offending part of the body."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def check_stages(stages: Sequence[StageSpec], *, field: str = "body.stages") -> None:
    if not any(not s.is_closed for s in stages):
        raise StageError(field, "needs at least one open stage")
    seen: set[str] = set()
    won = 0
    for index, stage in enumerate(stages):
        where = f"{field}[{index}]"
        if stage.name.casefold() in seen:
            raise StageError(f"{where}.name", f"stage name {stage.name!r} is used twice")
        seen.add(stage.name.casefold())
        if not 0 <= stage.probability <= 100:
            raise StageError(f"{where}.probability", "must be between 0 and 100")
        if stage.is_won:
            won += 1
            if not stage.is_closed:
                raise StageError(f"{where}.is_closed", "a won stage is closed")
            if stage.probability != 100:
                raise StageError(f"{where}.probability", "a won stage has probability 100")
        elif stage.is_closed and stage.probability != 0:
            raise StageError(f"{where}.probability", "a lost stage has probability 0")
    if won != 1:
        raise StageError(field, "needs exactly one won stage")
    if not any(s.is_closed and not s.is_won for s in stages):
        raise StageError(field, "needs at least one lost stage (closed, not won)")


class MoveError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def check_move(*, deal_status: str, target_closed: bool, target_active: bool, same_pipeline: bool) -> None:
    """Raise ``MoveError`` unless an open deal may ``move`` to the target stage."""
    if deal_status != "open":
        raise MoveError("illegal-transition", f"the deal is {deal_status}; a closed deal does not move")
    if not same_pipeline:
        raise MoveError("stage-of-another-pipeline", "the stage belongs to another pipeline")
    if not target_active:
        raise MoveError("stage-retired", "the stage was retired from the pipeline")
    if target_closed:
        raise MoveError("closed-stage", "a closed stage is reached by the win or lose action, not by a move")
