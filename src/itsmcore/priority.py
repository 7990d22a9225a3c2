"""The impact × urgency priority matrix.

Why data: the matrix is policy. ITIL's common default is below; a host may load its
own from plain data, and a matrix that does not cover every (impact, urgency) pair of
its axes is a :class:`~itsmcore.errors.SpecError`, caught when it is built rather than
when an incident arrives.

Impact and urgency run from 1 (high) to 3 (low) by default; priority from 1 (critical)
to 5 (planning).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import attrs

from itsmcore.errors import SpecError, ValidationError

__all__ = ["DEFAULT_MATRIX", "PriorityMatrix"]


def _table(value: Mapping[tuple[int, int], int]) -> tuple[tuple[tuple[int, int], int], ...]:
    return tuple(sorted(dict(value).items()))


@attrs.frozen(slots=True)
class PriorityMatrix:
    """A total map from ``(impact, urgency)`` to priority.

    Build with :meth:`from_dict` (plain data) or directly from a mapping of pairs.
    """

    impacts: tuple[int, ...]
    urgencies: tuple[int, ...]
    table: tuple[tuple[tuple[int, int], int], ...] = attrs.field(converter=_table)
    _lookup: dict[tuple[int, int], int] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        problems = [
            *_level_problems(self.impacts, "impact"),
            *_level_problems(self.urgencies, "urgency"),
        ]
        lookup = dict(self.table)
        for i in self.impacts:
            for u in self.urgencies:
                if (i, u) not in lookup:
                    problems.append(f"missing impact {i} x urgency {u}")
        for (i, u), p in lookup.items():
            if i not in self.impacts or u not in self.urgencies:
                problems.append(f"impact {i} x urgency {u} is outside the axes")
            if isinstance(p, bool) or not isinstance(p, int) or p < 1:
                problems.append(f"impact {i} x urgency {u}: priority must be a positive int")
        if not self.impacts or not self.urgencies:
            problems.append("both axes need at least one level")
        if problems:
            raise SpecError("priority_matrix", problems)
        object.__setattr__(self, "_lookup", lookup)

    def priority(self, impact: int, urgency: int) -> int:
        """The priority of ``(impact, urgency)``; ``ValidationError`` off the axes."""
        try:
            return self._lookup[(impact, urgency)]
        except (KeyError, TypeError):
            raise ValidationError(
                [
                    ("$.impact", f"must be one of {list(self.impacts)}, got {impact!r}"),
                    ("$.urgency", f"must be one of {list(self.urgencies)}, got {urgency!r}"),
                ]
            ) from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PriorityMatrix:
        """Load ``{"impacts": [1,2,3], "urgencies": [1,2,3], "priorities": [[1,2,3],...]}``:
        ``priorities[i][u]`` is the priority of the i-th impact and u-th urgency."""
        try:
            impacts = tuple(data["impacts"])
            urgencies = tuple(data["urgencies"])
            # Checked before the table is built: a float or text level must not be
            # truncated or sorted against numbers, and a repeated level would let a
            # later row overwrite an earlier one.
            levels = [*_level_problems(impacts, "impact"), *_level_problems(urgencies, "urgency")]
            if levels:
                raise SpecError("priority_matrix", levels)
            rows = data["priorities"]
            if len(rows) != len(impacts) or any(len(r) != len(urgencies) for r in rows):
                raise SpecError("priority_matrix", ["priorities must be impacts x urgencies"])
            table = {
                (i, u): rows[a][b] for a, i in enumerate(impacts) for b, u in enumerate(urgencies)
            }
        except SpecError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError("priority_matrix", [f"malformed matrix data: {exc}"]) from None
        return cls(impacts=impacts, urgencies=urgencies, table=table)

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form read by :meth:`from_dict`."""
        return {
            "impacts": list(self.impacts),
            "urgencies": list(self.urgencies),
            "priorities": [[self._lookup[(i, u)] for u in self.urgencies] for i in self.impacts],
        }


def _level_problems(levels: tuple[object, ...], axis: str) -> list[str]:
    """Why the levels of one axis are not distinct whole numbers (empty when they are)."""
    for level in levels:
        if isinstance(level, bool) or not isinstance(level, int):
            return [f"{axis} levels must be whole numbers, got {level!r}"]
    twice = sorted({level for level in levels if levels.count(level) > 1}, key=str)
    return [f"{axis} level {level} is given twice" for level in twice]


#: ITIL's common 3 × 3 matrix: 1,1→1; 1,2→2; 1,3→3; 2,1→2; 2,2→3; 2,3→4; 3,1→3; 3,2→4; 3,3→5.
DEFAULT_MATRIX: Final = PriorityMatrix.from_dict(
    {"impacts": [1, 2, 3], "urgencies": [1, 2, 3], "priorities": [[1, 2, 3], [2, 3, 4], [3, 4, 5]]}
)
