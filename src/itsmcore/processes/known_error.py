"""The known error process: a problem whose root cause and workaround are documented.

ISO/IEC 20000-1 clause 8.6.3 (known errors are recorded and their workarounds made
available); the seed's R4.3-05. States and rules:

- ``draft`` → ``published`` (``publish``) → ``retired`` (``retire``); a draft that turns
  out wrong may be retired without being published;
- ``publish`` requires a non-blank ``workaround`` (a known error without one helps no
  agent) and non-blank ``symptoms`` (what agents match incidents against);
- ``retire`` requires a ``reason`` (e.g. the fix is deployed, the service is gone);
- ``update`` edits fields in ``draft`` and ``published``; a published known error keeps
  its title, symptoms and workaround (they may be rewritten, not emptied).

``problem`` names the problem the known error documents and ``fix_change`` the change
that removes the root cause; ``fix_status`` tracks that fix (seed R4.3-05). Relate it to
incidents with ``engine.link(incident_id, known_error_id, "matches")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["FIX_STATUSES", "SPEC"]

#: Where the permanent fix stands.
FIX_STATUSES: Final = ("not_planned", "planned", "in_progress", "deployed")

#: Fields that must stay non-blank in a state (``update`` may rewrite, not empty them).
_KEPT: Final[Mapping[str, tuple[str, ...]]] = {
    "draft": ("title",),
    "published": ("title", "symptoms", "workaround"),
}


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@BUILTINS.guard("known_error.publishable")
def _publishable(ctx: Context) -> str | None:
    """Only a known error with symptoms and a workaround in words is published."""
    missing = [name for name in ("symptoms", "workaround") if _blank(ctx.value(name))]
    if missing:
        return (
            f"describe the {' and the '.join(missing)} (non-blank text) before publishing: "
            "agents match incidents on symptoms and apply the workaround"
        )
    return None


@BUILTINS.guard("known_error.keeps_content")
def _keeps_content(ctx: Context) -> str | None:
    """``update`` may not empty what the current state rests on."""
    emptied = [name for name in _KEPT.get(ctx.source or "", ()) if _blank(ctx.value(name))]
    if emptied:
        return (
            f"cannot empty {', '.join(emptied)} of a {ctx.source} known error: give new "
            "text instead, or retire it"
        )
    return None


SPEC: Final = ProcessSpec(
    name="known_error",
    version=1,
    title="Known error",
    id_prefix="KE",
    description="A problem with a documented root cause and workaround.",
    states=(
        StateSpec("draft", "open", initial=True, description="Being written; not shown."),
        StateSpec("published", "active", description="Available to agents and users."),
        StateSpec("retired", "closed", terminal=True, description="No longer applies."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("problem", "ref", description="The problem this known error documents."),
        FieldSpec("symptoms", "text", description="What users and monitoring observe."),
        FieldSpec("root_cause", "text"),
        FieldSpec("workaround", "text", description="How to restore service meanwhile."),
        FieldSpec("fix_change", "ref", description="The change that removes the cause."),
        FieldSpec("fix_status", "enum", choices=FIX_STATUSES),
        FieldSpec("service", "ref"),
        FieldSpec("ci", "ref"),
        FieldSpec("reason", "text", description="Why it was retired."),
    ),
    opening=TransitionSpec("open", (), "draft"),
    transitions=(
        TransitionSpec(
            "publish",
            ("draft",),
            "published",
            requires=("symptoms", "workaround"),
            guards=("known_error.publishable",),
        ),
        TransitionSpec(
            "retire",
            ("draft", "published"),
            "retired",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "update", ("draft", "published"), "=", guards=("known_error.keeps_content",)
        ),
    ),
)
