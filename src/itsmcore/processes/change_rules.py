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
    "CHANGE_LOG_FIELDS",
    "FIELD_PLACES",
    "ChangeFreeze",
    "approval_log",
    "change_freezes",
    "check_options",
    "out_of_place",
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


@BUILTINS.guard("change.outcome_given")
def _outcome_given(ctx: Context) -> str | None:
    """The outcome is a fact of the implementation: it is stated when completing."""
    if ctx.changes.get("outcome") is None:
        return "give the 'outcome' of the implementation with 'complete'"
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


_BEFORE_AUTHORIZING: Final = (("new", "*"), ("assessing", "*"))

#: Where a field may be given, as ``(state, event)`` pairs (``*`` = any). Any event may
#: carry fields, so this table is what keeps an approval from also lowering its own
#: quorum (``change_type``) or a plan from changing under the CAB: the type is fixed once
#: submitted, the change log and assessment once authorisation starts, the window is
#: re-planned only with ``schedule``, and outcome and reasons belong to their events.
#: Fields not listed (title, description, owner, service, ci) may change at any time.
FIELD_PLACES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "change_type": (("new", "*"),),
    "template": (("new", "*"),),
    **dict.fromkeys(("reason", "impact_scope", *ASSESSMENT_FIELDS), _BEFORE_AUTHORIZING),
    "planned_start": (*_BEFORE_AUTHORIZING, ("scheduled", "schedule")),
    "planned_end": (*_BEFORE_AUTHORIZING, ("scheduled", "schedule")),
    "test_result": (*_BEFORE_AUTHORIZING, ("authorizing", "*"), ("scheduled", "*")),
    "rejection_reason": (("authorizing", "reject"),),
    "outcome": (("implementing", "complete"),),
    "review_notes": (("implementing", "complete"), ("reviewing", "close")),
    "cancellation_reason": (("*", "cancel"),),
}
_KEPT: Final = ("title", "description", "change_type")


def _place(state: str, event: str) -> str:
    if event == "*":
        return f"in {state}"
    if state == "*":
        return f"with {event!r}"
    return f"with {event!r} in {state}"


def out_of_place(ctx: Context, places: Mapping[str, Sequence[tuple[str, str]]]) -> str | None:
    """The reason a field given with this event changes outside its allowed places.

    ``places`` maps a field name to ``(state, event)`` pairs (``*`` = any) where it may
    change; unlisted fields may change anywhere, and a value equal to the current one
    is no change. On ``open`` the state is the opening's target (``new``), the event
    ``open``. Used by the change and release processes; reusable by host processes.
    """
    record = ctx.record
    state = ctx.source if record is not None and ctx.source is not None else ctx.target
    event = ctx.event
    for name, value in ctx.changes.items():
        allowed = places.get(name)
        if allowed is None or (record is not None and value == record.get(name)):
            continue
        if any(s in ("*", state) and e in ("*", event) for s, e in allowed):
            continue
        where = " or ".join(_place(s, e) for s, e in allowed)
        return f"{name} cannot change with {event!r} in state {state!r}; it is set {where}"
    return None


@BUILTINS.guard("change.fields_in_place")
def _fields_in_place(ctx: Context) -> str | None:
    """Each controlled field changes only where :data:`FIELD_PLACES` allows it."""
    reason = out_of_place(ctx, FIELD_PLACES)
    if reason is None:
        return None
    return f"{reason} (cancel and raise a new change if the authorised plan no longer holds)"


@BUILTINS.guard("change.keeps_required")
def _keeps_required(ctx: Context) -> str | None:
    """``update`` never empties the fields a change is opened with."""
    cleared = [name for name in _KEPT if ctx.value(name) is None]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value instead"
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
