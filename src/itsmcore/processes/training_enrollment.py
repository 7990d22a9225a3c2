"""The training enrollment process: one person through one course, up to certification.

ISO/IEC 20000-1 clause 7.2 (competence: determine it, ensure it by training, evaluate
the effectiveness, keep evidence); the seed's R5.4-01 (enrollment lifecycle), R5.4-02/03/
04 (topic, method, channel), R5.3-06 (knowledge articles as materials) and R6.2-05
(mandatory compliance training). States and rules:

- ``planned`` → ``enrolled`` (``enroll``) → ``attended`` (``attend``) → ``assessed``
  (``assess``, requires ``result`` passed / failed) → ``certified`` (``certify``, only
  when passed; requires the ``certification`` record id). ``complete`` ends an assessed
  enrollment without a certificate (a course that grants none, or a failed one nobody
  retakes); ``retake`` sends a failed participant back to ``enrolled`` and counts
  ``attempts``;
- ``open`` requires ``title``, ``person`` and ``course``;
- the assessor is not the participant: ``assess`` by the ``person`` themselves is refused
  (guard ``training_enrollment.independent_assessor``); it stamps ``assessed_by``;
- ``cancel`` (requires ``reason``) before the assessment; a no-show is a cancellation;
- ``result`` and ``score`` are given only by ``assess`` and ``certification`` only by
  ``certify`` (guard ``training_enrollment.outcome_via_its_event``), so no other event
  can pre-set an outcome; ``update`` edits descriptive fields.

``certify`` is usually fired by ``engine.open_follow_up(enrollment_id, "certification",
event="certify", ref_field="certification", fields=...)``, which opens the
certification, links it ``follow_up_of`` the enrollment and certifies in one atomic
save (see :mod:`~itsmcore.processes.certification`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["CHANNELS", "METHODS", "RESULTS", "SPEC", "TOPICS"]

#: Curriculum topics (seed R5.4-02).
TOPICS: Final = ("service_process", "technical", "communication", "customer_service")
#: Training methods (seed R5.4-03).
METHODS: Final = ("case_study", "simulation_drill", "hands_on")
#: Learning channels (seed R5.4-04).
CHANNELS: Final = ("e_learning", "internal_sharing", "external_certification")
RESULTS: Final = ("passed", "failed")


@BUILTINS.guard("training_enrollment.independent_assessor")
def _independent_assessor(ctx: Context) -> str | None:
    """Nobody assesses their own training."""
    if ctx.actor.id == ctx.value("person"):
        return f"{ctx.actor.id!r} is the participant and cannot assess themselves"
    return None


@BUILTINS.effect("training_enrollment.stamp_assessment")
def _stamp_assessment(ctx: Context) -> Mapping[str, Any]:
    return {"assessed_by": ctx.actor.id, "assessed_at": ctx.at}


@BUILTINS.guard("training_enrollment.passed")
def _passed(ctx: Context) -> str | None:
    if ctx.value("result") != "passed":
        return "only a participant who passed the assessment is certified"
    return None


@BUILTINS.guard("training_enrollment.failed")
def _failed(ctx: Context) -> str | None:
    if ctx.value("result") != "failed":
        return "only a participant who failed retakes the course"
    return None


@BUILTINS.effect("training_enrollment.count_attempt")
def _count_attempt(ctx: Context) -> Mapping[str, Any]:
    """Each enrollment (the first and every retake) is an attempt; a retake clears the
    previous result so the next ``assess`` states a fresh one."""
    attempts = 1 if ctx.record is None else ctx.record.get("attempts", 1) + 1
    changes: dict[str, Any] = {"attempts": attempts}
    if ctx.record is not None:
        changes.update(result=None, score=None, assessed_by=None, assessed_at=None)
    return changes


#: The outcome fields (and the participant) and the one event that may set each.
_OUTCOME_EVENT: Final = {
    "person": "open",
    "result": "assess",
    "score": "assess",
    "certification": "certify",
}


@BUILTINS.guard("training_enrollment.outcome_via_its_event")
def _outcome_via_its_event(ctx: Context) -> str | None:
    """The result and score are given only by ``assess``, the certificate only by
    ``certify``: no other event (``open`` and ``update`` included) may pre-set them. The
    participant is named on ``open`` and never changes (else the assessor could swap
    themselves out, or one person's pass certify another)."""
    before = ctx.record.fields if ctx.record is not None else {}
    wrong = [
        n
        for n, event in _OUTCOME_EVENT.items()
        if event != ctx.event and ctx.changes.get(n, before.get(n)) != before.get(n)
    ]
    if wrong:
        return ", ".join(f"{n!r} is set only by {_OUTCOME_EVENT[n]!r}" for n in wrong)
    return None


_OUTCOME = "training_enrollment.outcome_via_its_event"

SPEC: Final = ProcessSpec(
    name="training_enrollment",
    version=1,
    title="Training enrollment",
    id_prefix="ENR",
    description="One person's path through one course, assessed and certified.",
    states=(
        StateSpec("planned", "open", initial=True, description="Training is planned."),
        StateSpec("enrolled", "open", description="A place is booked."),
        StateSpec("attended", "open", description="The person took part."),
        StateSpec("assessed", "resolved", description="Passed or failed."),
        StateSpec("certified", "closed", terminal=True, description="A certificate issued."),
        StateSpec("completed", "closed", terminal=True, description="Ended, no certificate."),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("person", "str", required=True, description="The participant."),
        FieldSpec("course", "str", required=True),
        FieldSpec("competency", "str", description="What passing it demonstrates."),
        FieldSpec("topic", "enum", choices=TOPICS),
        FieldSpec("method", "enum", choices=METHODS),
        FieldSpec("channel", "enum", choices=CHANNELS),
        FieldSpec("session_at", "datetime"),
        FieldSpec("materials", "list", description="Knowledge article ids (R5.3-06)."),
        FieldSpec("mandatory", "bool"),
        FieldSpec("obligation", "ref", description="The obligation that requires it."),
        FieldSpec("result", "enum", choices=RESULTS),
        FieldSpec("score", "float", minimum=0, maximum=100),
        FieldSpec("assessed_by", "str", derived=True),
        FieldSpec("assessed_at", "datetime", derived=True),
        FieldSpec("attempts", "int", derived=True),
        FieldSpec("certification", "ref", description="The certification issued."),
        FieldSpec("reason", "text"),
    ),
    opening=TransitionSpec(
        "open", (), "planned", guards=(_OUTCOME,), effects=("training_enrollment.count_attempt",)
    ),
    transitions=(
        TransitionSpec("enroll", ("planned",), "enrolled", guards=(_OUTCOME,)),
        TransitionSpec("attend", ("enrolled",), "attended", guards=(_OUTCOME,)),
        TransitionSpec(
            "assess",
            ("attended",),
            "assessed",
            requires=("result",),
            guards=(_OUTCOME, "training_enrollment.independent_assessor"),
            effects=("training_enrollment.stamp_assessment",),
        ),
        TransitionSpec(
            "certify",
            ("assessed",),
            "certified",
            requires=("certification",),
            guards=(_OUTCOME, "training_enrollment.passed"),
        ),
        TransitionSpec(
            "retake",
            ("assessed",),
            "enrolled",
            guards=(_OUTCOME, "training_enrollment.failed"),
            effects=("training_enrollment.count_attempt",),
        ),
        TransitionSpec("complete", ("assessed",), "completed", guards=(_OUTCOME,)),
        TransitionSpec(
            "cancel",
            ("planned", "enrolled", "attended"),
            "cancelled",
            requires=("reason",),
            guards=(_OUTCOME, "common.has_reason"),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_OUTCOME,)),
    ),
)
