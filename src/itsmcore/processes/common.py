"""Guards and effects shared by several built-in processes.

Registered in :data:`itsmcore.registry.BUILTINS` under the ``common.`` prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from itsmcore.priority import DEFAULT_MATRIX, PriorityMatrix
from itsmcore.registry import BUILTINS, Context

__all__ = ["matrix_of", "priority_effect"]


def matrix_of(ctx: Context, option: str = "priority_matrix") -> PriorityMatrix:
    """The matrix from the spec's options (a :class:`PriorityMatrix` or its dict form),
    or :data:`~itsmcore.priority.DEFAULT_MATRIX`."""
    value = ctx.options.get(option)
    if value is None:
        return DEFAULT_MATRIX
    if isinstance(value, PriorityMatrix):
        return value
    return PriorityMatrix.from_dict(value)


@BUILTINS.effect("common.priority")
def priority_effect(ctx: Context) -> Mapping[str, Any] | None:
    """Derive ``priority`` from ``impact`` × ``urgency`` when either is given (and on open)."""
    if ctx.record is not None and "impact" not in ctx.changes and "urgency" not in ctx.changes:
        return None
    impact, urgency = ctx.value("impact"), ctx.value("urgency")
    if impact is None or urgency is None:
        return None
    return {"priority": matrix_of(ctx).priority(impact, urgency)}


@BUILTINS.guard("common.has_reason")
def has_reason(ctx: Context) -> str | None:
    """Passes when a non-blank ``reason`` is given with this event."""
    reason = ctx.changes.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        return "give a non-blank 'reason'"
    return None
