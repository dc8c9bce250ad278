"""Aggregate reports with a minimum group size.

A group with fewer customers than the agreement's minimum is suppressed: its count is
never returned, not even as a bound. Because a partner knows how many customers it was
given, one suppressed group among shown ones could be computed by subtraction; so when
exactly one group is suppressed, the smallest shown group is suppressed with it
(complementary suppression, as statistical offices do).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Group", "suppress"]


@dataclass(frozen=True)
class Group:
    name: str
    count: int | None  # None: suppressed

    @property
    def suppressed(self) -> bool:
        return self.count is None


def suppress(counts: Mapping[str, int], min_size: int) -> list[Group]:
    """Groups by name; counts below ``min_size`` (and their complement) as suppressed."""
    hidden = {name for name, count in counts.items() if count < min_size}
    if len(hidden) == 1:
        shown = sorted((count, name) for name, count in counts.items() if name not in hidden)
        if shown:
            hidden.add(shown[0][1])
    return [Group(name, None if name in hidden else counts[name]) for name in sorted(counts)]
