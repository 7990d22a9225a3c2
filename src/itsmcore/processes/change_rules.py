"""The rules of the change process: its guards, effects and host options.

Registered in :data:`itsmcore.registry.BUILTINS` under the ``change.`` prefix and used by
:mod:`itsmcore.processes.change`. Host parameters live in the spec's ``options``
(:meth:`~itsmcore.spec.ProcessSpec.with_options`), as plain data so a spec file can carry
them:

- ``standard_templates``: the pre-approved standard changes, a list of template names
  (or a table whose keys are the names). Default: none, so every standard change is
  refused until the host declares its templates.
- ``normal_quorum`` / ``emergency_quorum``: how many distinct CAB members must approve
  (default 2 and 1, the emergency CAB).
- ``change_freezes``: blackout periods, a list of tables ``{name, start, end}`` whose
  ``start``/``end`` are timezone-aware datetimes or ISO 8601 texts with an offset. A
  freeze covers ``[start, end)``.
- ``freeze_exempt_types``: change types a freeze does not stop (default none; a host may
  exempt ``emergency``).

A malformed option raises :class:`~itsmcore.errors.SpecError` naming the option, at the
first event that reads it; call :func:`check_options` at start-up to fail earlier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from itsmcore._values import parse_utc_text
from itsmcore.errors import SpecError, ValidationError, did_you_mean
from itsmcore.records import Event
from itsmcore.registry import BUILTINS, Context

__all__ = [
    "ASSESSMENT_FIELDS",
    "ChangeFreeze",
    "approval_log",
    "change_freezes",
    "check_options",
    "quorum",
    "standard_templates",
]

#: What ``assess`` records (seed R3.3-02): they are fixed once the change is authorised.
ASSESSMENT_FIELDS: Final = ("risk", "impact_assessment", "backout_plan", "test_plan")

#: The change-log fields (seed R3.3-05) that ``submit`` requires besides the window.
CHANGE_LOG_FIELDS: Final = ("reason", "impact_scope", "owner")

_DEFAULT_QUORUM: Final[Mapping[str, int]] = {"normal": 2, "emergency": 1}


@attrs.frozen(slots=True)
class ChangeFreeze:
    """A declared blackout period ``[start, end)`` in which no change may be planned."""

    name: str
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """True when the window ``[start, end)`` shares any instant with the freeze."""
        return start < self.end and self.start < end


# -- options ---------------------------------------------------------------------------------


def _instant(value: Any, path: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise SpecError("change", [f"{path}: naive datetime; attach a time zone"])
        return value
    if isinstance(value, str):
        try:
            return parse_utc_text(value, path)
        except ValidationError as exc:
            raise SpecError("change", [f"{p}: {m}" for p, m in exc.errors]) from None
    raise SpecError("change", [f"{path}: expected an aware datetime or ISO 8601 text"])


def change_freezes(options: Mapping[str, Any]) -> tuple[ChangeFreeze, ...]:
    """The freezes declared in ``options["change_freezes"]`` (see the module docstring).

    Raises :class:`SpecError` naming the bad entry (missing name, naive or unparsable
    time, an end not after its start).
    """
    raw = options.get("change_freezes") or ()
    if isinstance(raw, str | Mapping) or not isinstance(raw, Iterable):
        raise SpecError("change", ["options.change_freezes: expected a list of tables"])
    freezes: list[ChangeFreeze] = []
    for i, item in enumerate(raw):
        path = f"options.change_freezes[{i}]"
        if not isinstance(item, Mapping):
            raise SpecError("change", [f"{path}: expected a table with name, start and end"])
        name = item.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SpecError("change", [f"{path}.name: give the freeze a name"])
        start = _instant(item.get("start"), f"{path}.start")
        end = _instant(item.get("end"), f"{path}.end")
        if end <= start:
            raise SpecError("change", [f"{path}: end must be after start"])
        freezes.append(ChangeFreeze(name=name, start=start, end=end))
    return tuple(freezes)


def standard_templates(options: Mapping[str, Any]) -> tuple[str, ...]:
    """The names of the pre-approved standard changes (``options["standard_templates"]``)."""
    raw = options.get("standard_templates") or ()
    if isinstance(raw, Mapping):
        raw = tuple(raw)
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        raise SpecError("change", ["options.standard_templates: expected a list of names"])
    names = tuple(raw)
    if not all(isinstance(n, str) and n for n in names):
        raise SpecError("change", ["options.standard_templates: every name must be a text"])
    return names


def quorum(options: Mapping[str, Any], change_type: str) -> int:
    """How many distinct approvers authorise a change of ``change_type``.

    ``options["<type>_quorum"]`` (a whole number ≥ 1) or the default: 2 for a normal
    change, 1 for an emergency change.
    """
    kind = "emergency" if change_type == "emergency" else "normal"
    key = f"{kind}_quorum"
    value = options.get(key, _DEFAULT_QUORUM[kind])
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SpecError("change", [f"options.{key}: expected a whole number of at least 1"])
    return value


def check_options(options: Mapping[str, Any]) -> None:
    """Check every change option at once; raises :class:`SpecError` on the first bad one."""
    change_freezes(options)
    standard_templates(options)
    quorum(options, "normal")
    quorum(options, "emergency")
    exempt = options.get("freeze_exempt_types") or ()
    if isinstance(exempt, str) or not isinstance(exempt, Iterable):
        raise SpecError("change", ["options.freeze_exempt_types: expected a list of types"])


def approval_log(events: Sequence[Event]) -> tuple[tuple[str, datetime], ...]:
    """Who approved a change and when, in order, from its history (``engine.history``)."""
    return tuple((ev.actor.id, ev.at) for ev in events if ev.name == "approve")


# -- guards ----------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _missing_texts(ctx: Context, names: Iterable[str]) -> list[str]:
    return [name for name in names if _blank(ctx.value(name))]


def _when(value: datetime) -> str:
    return value.isoformat()


for _type in ("standard", "normal", "emergency"):

    def _is_type(ctx: Context, _t: str = _type) -> str | None:
        kind = ctx.value("change_type")
        return None if kind == _t else f"the change type is {kind!r}, not {_t!r}"

    BUILTINS.add_guard(f"change.is_{_type}", _is_type)


@BUILTINS.guard("change.standard_template")
def _standard_template(ctx: Context) -> str | None:
    """A standard change names one of the host's pre-approved templates."""
    if ctx.value("change_type") != "standard":
        return None
    known = standard_templates(ctx.options)
    template = ctx.value("template")
    if not known:
        return (
            "no standard change templates are declared: list the pre-approved changes in "
            "options['standard_templates'], or raise a normal change"
        )
    if template is None:
        return f"a standard change needs a 'template', one of: {', '.join(known)}"
    if template not in known:
        hint = did_you_mean(str(template), known)
        return (
            f"{template!r} is not a pre-approved standard change{hint}; use one of "
            f"{', '.join(known)}, or raise a normal change"
        )
    return None


@BUILTINS.guard("change.window_valid")
def _window_valid(ctx: Context) -> str | None:
    """The planned window ends after it starts and overlaps no change freeze."""
    start, end = ctx.value("planned_start"), ctx.value("planned_end")
    if start is None or end is None:
        return None
    if end <= start:
        return f"planned_end ({_when(end)}) must be after planned_start ({_when(start)})"
    exempt = ctx.options.get("freeze_exempt_types") or ()
    if ctx.value("change_type") in exempt:
        return None
    for freeze in change_freezes(ctx.options):
        if freeze.overlaps(start, end):
            return (
                f"the planned window {_when(start)} to {_when(end)} overlaps the change "
                f"freeze {freeze.name!r} ({_when(freeze.start)} to {_when(freeze.end)}); "
                "plan the change outside the freeze"
            )
    return None


@BUILTINS.guard("change.change_log_complete")
def _change_log_complete(ctx: Context) -> str | None:
    """The change log states reason, impact scope and owner (seed R3.3-05)."""
    missing = _missing_texts(ctx, CHANGE_LOG_FIELDS)
    if missing:
        return f"give non-blank {', '.join(missing)} (the change log needs them)"
    return None


@BUILTINS.guard("change.emergency_plan")
def _emergency_plan(ctx: Context) -> str | None:
    """An emergency change skips assessment, so it states its backout plan up front."""
    if _blank(ctx.value("backout_plan")):
        return "an emergency change needs a non-blank 'backout_plan' before the ECAB sees it"
    return None


@BUILTINS.guard("change.assessment_complete")
def _assessment_complete(ctx: Context) -> str | None:
    """Impact and risk are assessed before approval (seed R3.3-02)."""
    missing = _missing_texts(ctx, ("impact_assessment", "backout_plan", "test_plan"))
    if missing:
        return f"give non-blank {', '.join(missing)} to complete the assessment"
    return None


@BUILTINS.guard("change.not_requester")
def _not_requester(ctx: Context) -> str | None:
    """Segregation of duties: whoever opened a change never approves it (seed R3.3-08)."""
    assert ctx.record is not None
    if ctx.actor.id == ctx.record.opened_by:
        return (
            f"segregation of duties: {ctx.actor.id!r} opened this change and cannot approve "
            "it; another CAB member must approve"
        )
    return None


@BUILTINS.guard("change.first_approval")
def _first_approval(ctx: Context) -> str | None:
    """An approver counts once: a second approval by the same person is refused."""
    assert ctx.record is not None
    if ctx.actor.id in ctx.record.get("approvals", ()):
        return f"{ctx.actor.id!r} has already approved this change; another CAB member must"
    return None


@BUILTINS.guard("change.quorum_reached")
def _quorum_reached(ctx: Context) -> str | None:
    """Condition: with this approval, the distinct approvers reach the type's quorum."""
    assert ctx.record is not None
    approvers = {*ctx.record.get("approvals", ()), ctx.actor.id}
    needed = quorum(ctx.options, str(ctx.value("change_type")))
    if len(approvers) >= needed:
        return None
    return f"{len(approvers)} of {needed} approvals"


@BUILTINS.guard("change.tested")
def _tested(ctx: Context) -> str | None:
    """No change goes in untested (seed R3.3-04)."""
    result = ctx.value("test_result")
    if result != "passed":
        return (
            f"test_result is {result!r}: no change is implemented untested; test it and "
            "record test_result 'passed', or cancel the change"
        )
    return None


@BUILTINS.guard("change.review_notes")
def _review_notes(ctx: Context) -> str | None:
    """The review of an unsuccessful or emergency change is written down (R3.3-07)."""
    outcome, kind = ctx.value("outcome"), ctx.value("change_type")
    if (outcome != "successful" or kind == "emergency") and _blank(ctx.value("review_notes")):
        why = "an emergency change" if kind == "emergency" else f"outcome {outcome!r}"
        return f"give non-blank 'review_notes' to close {why}"
    return None


@BUILTINS.guard("change.rejection_reason")
def _rejection_reason(ctx: Context) -> str | None:
    if _blank(ctx.changes.get("rejection_reason")):
        return "give a non-blank 'rejection_reason' so the requester knows what to fix"
    return None


@BUILTINS.guard("change.cancellation_reason")
def _cancellation_reason(ctx: Context) -> str | None:
    if _blank(ctx.changes.get("cancellation_reason")):
        return "give a non-blank 'cancellation_reason'"
    return None


#: Fields ``update`` may not touch, by state: the type is fixed once submitted; the
#: assessment, scope and window are fixed once authorised (re-plan with ``schedule``).
_LOCKED: Final[Mapping[str, tuple[str, ...]]] = {
    "assessing": ("change_type", "template"),
    "scheduled": (
        "change_type",
        "template",
        *ASSESSMENT_FIELDS,
        "impact_scope",
        "planned_start",
        "planned_end",
    ),
}
_KEPT: Final = ("title", "description", "change_type")
#: Fields only their own event sets (``reject``, ``complete``, ``close``, ``cancel``).
_EVENT_ONLY: Final = ("rejection_reason", "outcome", "review_notes", "cancellation_reason")


@BUILTINS.guard("change.update_allowed")
def _update_allowed(ctx: Context) -> str | None:
    """``update`` never empties the opening fields nor edits what the state has fixed."""
    assert ctx.record is not None
    cleared = [name for name in _KEPT if ctx.value(name) is None]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value instead"
    own = [name for name in _EVENT_ONLY if name in ctx.changes]
    if own:
        return f"{', '.join(own)} are recorded by their own events, not by 'update'"
    locked = [
        name
        for name in _LOCKED.get(ctx.source or "", ())
        if name in ctx.changes and ctx.changes[name] != ctx.record.get(name)
    ]
    if locked:
        how = " (re-plan with 'schedule')" if {"planned_start", "planned_end"} & set(locked) else ""
        return (
            f"{', '.join(locked)} cannot change in state {ctx.source!r}{how}; cancel and "
            "raise a new change if the approved plan no longer holds"
        )
    return None


# -- effects ---------------------------------------------------------------------------------


@BUILTINS.effect("change.record_approval")
def _record_approval(ctx: Context) -> Mapping[str, Any] | None:
    """Append the approver's id to the derived ``approvals`` list."""
    assert ctx.record is not None
    return {"approvals": (*ctx.record.get("approvals", ()), ctx.actor.id)}


@BUILTINS.effect("change.actual_start")
def _actual_start(ctx: Context) -> Mapping[str, Any] | None:
    return {"actual_start": ctx.at}


@BUILTINS.effect("change.actual_end")
def _actual_end(ctx: Context) -> Mapping[str, Any] | None:
    return {"actual_end": ctx.at}
