"""The security incident process: detect, analyse, contain, eradicate, recover, learn.

ISO/IEC 20000-1 clause 8.7.3 (information security incidents); the seed's R6.1-06 and
R6.5-01 (the phases), R6.5-03 (grading), R6.5-06 (root cause and improvement before
closure); NIST SP 800-61's eradication phase, which the seed drops, is kept. States:

``detected`` → ``analysing`` (``analyse``) → ``containing`` (``contain``, requires
``severity`` and ``category``: an incident is graded before it leaves analysis) →
``eradicating`` (``eradicate``) → ``recovering`` (``recover``, also straight from
``containing`` when there is nothing to eradicate) → ``post_incident_review``
(``review``) → ``closed`` (``close``). ``dismiss`` ends a ``detected`` or ``analysing``
incident as ``false_positive`` (requires ``reason``).

Rules:

- ``severity`` is 1–4, the four grades of GB/Z 20986-2007: 1 = I especially major
  (特别重大), 2 = II major (重大), 3 = III larger (较大), 4 = IV general (一般).
  Raising it (a lower number) is open to anyone; only a ``security_officer`` may lower
  it (a higher number) — anyone else gets ``Forbidden`` — and once set it is never
  cleared. The rule holds for every event that carries ``severity``.
- Only a ``security_officer`` may ``close`` (``Forbidden``). Closing requires non-blank
  ``lessons_learned`` and an explicit ``personal_data_involved`` (true or false); when
  personal data was involved, ``regulator_notified`` must be decided too.
- ``close`` from ``recovering`` skips the review and is allowed only for severity III and
  IV; severity I and II always go through ``post_incident_review``.
- Closing from ``post_incident_review`` also requires a ``root_cause`` and either at
  least one ``improvement_actions`` item or a ``no_actions_reason`` (R6.5-06).
"""

from __future__ import annotations

from typing import Any, Final

from itsmcore.errors import Forbidden
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["CATEGORIES", "OFFICER", "SEVERITY_NAMES", "SPEC"]

#: The role that may close an incident and lower its severity.
OFFICER: Final = "security_officer"
#: Severity number → grade (GB/Z 20986-2007's four grades).
SEVERITY_NAMES: Final = {
    1: "I especially major",
    2: "II major",
    3: "III larger",
    4: "IV general",
}
#: What kind of incident it is (a neutral set; a host wanting a national taxonomy such
#: as GB/T 20986-2023's ships a new spec version).
CATEGORIES: Final = (
    "malware",
    "unauthorised_access",
    "denial_of_service",
    "data_breach",
    "phishing",
    "insider_misuse",
    "vulnerability_exploitation",
    "information_content",
    "equipment_failure",
    "policy_violation",
    "physical",
    "other",
)


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@BUILTINS.guard("security_incident.severity_change")
def _severity_change(ctx: Context) -> str | None:
    """Anyone may raise the severity; only a security officer may lower it; nobody
    clears it. Lowering without the role raises ``Forbidden`` (an authorization rule
    that depends on the data, so a static ``roles`` cannot express it)."""
    record = ctx.record
    if record is None or "severity" not in ctx.changes:
        return None
    old, new = record.get("severity"), ctx.changes["severity"]
    if old is not None and new is None:
        return "the severity cannot be cleared once set: give a severity from 1 to 4"
    if old is not None and new is not None and new > old and not ctx.actor.has_role(OFFICER):
        raise Forbidden(
            f"lowering the severity from {SEVERITY_NAMES[old]} to {SEVERITY_NAMES[new]} needs "
            f"the role {OFFICER!r}; actor {ctx.actor.id!r} has "
            f"{', '.join(sorted(ctx.actor.roles)) or 'none'}",
            by="security_incident.severity_change",
            actor=ctx.actor.id,
            event=ctx.event,
        )
    return None


@BUILTINS.guard("security_incident.minor_only")
def _minor_only(ctx: Context) -> str | None:
    """Only severity III and IV may close without a post-incident review."""
    severity = ctx.value("severity")
    if not isinstance(severity, int) or severity < 3:
        grade = SEVERITY_NAMES.get(severity, "unknown") if isinstance(severity, int) else "unset"
        return (
            f"severity {grade} cannot skip the post-incident review: fire 'review', "
            "then close from 'post_incident_review'"
        )
    return None


@BUILTINS.guard("security_incident.lessons_learned")
def _lessons_learned(ctx: Context) -> str | None:
    """Closing states what was learned, in words."""
    if _blank(ctx.value("lessons_learned")):
        return "write the 'lessons_learned' (a non-blank text) before closing"
    return None


@BUILTINS.guard("security_incident.personal_data_decided")
def _personal_data_decided(ctx: Context) -> str | None:
    """Whether personal data was involved (and, if so, whether the regulator was told)
    is decided explicitly before closing."""
    involved = ctx.value("personal_data_involved")
    if involved is None:
        return "set 'personal_data_involved' to true or false before closing"
    if involved and ctx.value("regulator_notified") is None:
        return (
            "personal data was involved: set 'regulator_notified' (true or false) to record "
            "the notification decision before closing"
        )
    return None


@BUILTINS.guard("security_incident.review_complete")
def _review_complete(ctx: Context) -> str | None:
    """A reviewed incident closes with its root cause and improvement actions (R6.5-06)."""
    if _blank(ctx.value("root_cause")):
        return "state the 'root_cause' (a non-blank text) found by the review"
    actions = ctx.value("improvement_actions") or ()
    if not any(not _blank(a) for a in actions) and _blank(ctx.value("no_actions_reason")):
        return (
            "list at least one of 'improvement_actions', or say in 'no_actions_reason' why "
            "none is needed"
        )
    return None


_SEV = "security_incident.severity_change"
_CLOSE = (_SEV, "security_incident.lessons_learned", "security_incident.personal_data_decided")

SPEC: Final = ProcessSpec(
    name="security_incident",
    version=1,
    title="Security incident",
    id_prefix="SIR",
    description="Respond to an information security incident and learn from it.",
    states=(
        StateSpec("detected", "open", initial=True, description="Reported or alerted."),
        StateSpec("analysing", "open", description="Scope, impact and grade being found."),
        StateSpec("containing", "open", description="Stopping the spread."),
        StateSpec("eradicating", "open", description="Removing the cause (NIST)."),
        StateSpec("recovering", "open", description="Restoring systems and data."),
        StateSpec("post_incident_review", "resolved", description="Root cause, lessons."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("false_positive", "cancelled", terminal=True, description="Not an incident."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec(
            "severity", "int", minimum=1, maximum=4, description="1 I especially major … 4 IV"
        ),
        FieldSpec("category", "enum", choices=CATEGORIES),
        FieldSpec("personal_data_involved", "bool"),
        FieldSpec("regulator_notified", "bool"),
        FieldSpec("detected_at", "datetime", description="When it was first detected."),
        FieldSpec("reporter", "str"),
        FieldSpec("handler", "str", description="The incident lead."),
        FieldSpec("communications_owner", "str"),
        FieldSpec("containment_actions", "text"),
        FieldSpec("eradication_actions", "text"),
        FieldSpec("recovery_actions", "text"),
        FieldSpec("root_cause", "text"),
        FieldSpec("lessons_learned", "text"),
        FieldSpec("improvement_actions", "list"),
        FieldSpec("no_actions_reason", "text"),
        FieldSpec("reason", "text", description="Why it was dismissed."),
    ),
    transitions=(
        TransitionSpec("analyse", ("detected",), "analysing", guards=(_SEV,)),
        TransitionSpec(
            "contain",
            ("analysing",),
            "containing",
            requires=("severity", "category"),
            guards=(_SEV,),
        ),
        TransitionSpec("eradicate", ("containing",), "eradicating", guards=(_SEV,)),
        TransitionSpec("recover", ("containing", "eradicating"), "recovering", guards=(_SEV,)),
        TransitionSpec("review", ("recovering",), "post_incident_review", guards=(_SEV,)),
        TransitionSpec(
            "close",
            ("post_incident_review",),
            "closed",
            roles=(OFFICER,),
            requires=("lessons_learned", "root_cause"),
            guards=(*_CLOSE, "security_incident.review_complete"),
        ),
        TransitionSpec(
            "close",
            ("recovering",),
            "closed",
            roles=(OFFICER,),
            requires=("lessons_learned",),
            guards=("security_incident.minor_only", *_CLOSE),
            description="Severity III and IV only: close without a post-incident review.",
        ),
        TransitionSpec(
            "dismiss",
            ("detected", "analysing"),
            "false_positive",
            requires=("reason",),
            guards=(_SEV, "common.has_reason"),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_SEV,)),
    ),
)
