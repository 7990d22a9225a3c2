"""The feedback process: a satisfaction survey on a resolved record, and its closed loop.

ISO/IEC 20000-1 clause 8.3.2 (customer satisfaction measured, compared and acted on);
the seed's R3.1-07 (delivery feedback), R5.5-01 (survey lifecycle), R5.5-03 (channels)
and R5.5-05 (closed loop: a low score opens a follow-up). States and rules:

- ``sent`` → ``responded`` (``respond``, requires ``csat`` 1–5; ``nps`` 0–10 is
  optional) or ``expired`` (``expire``, fired by the ``expire`` timer at ``expires_at``
  when one is set);
- ``responded`` → ``analysed`` (``analyse``, requires ``analysis``) → ``actioned``
  (``record_action``, requires ``action_taken``) → ``closed``; ``close`` is allowed from
  ``responded``, ``analysed`` and ``actioned``;
- a CSAT score at or below ``options["follow_up_threshold"]`` (default 2), or an NPS at
  or below ``options["nps_follow_up_threshold"]`` (default: NPS triggers nothing), sets
  the derived ``follow_up_required``; such feedback cannot ``close`` until its
  ``follow_up`` is recorded (guard ``feedback.loop_closed``);
- ``record_follow_up`` (requires ``follow_up``, a record id) records the follow-up in
  any state after the response;
- ``open`` requires ``title``, ``subject`` (the rated record's id) and ``respondent``.

Pure specs cannot open records, so the follow-up is opened by the Engine:
``engine.respond_to_survey(feedback_id, at=..., actor=..., fields={"csat": 1})``
stores the response and, when a follow-up is required, opens it (an ``incident`` by
default, ``options["follow_up_process"]`` otherwise, with fields from
:func:`follow_up_fields`), links it ``follow_up_of`` the feedback and records its id in
``follow_up``, all in one atomic save. :func:`follow_up_steps` is the pure half of that
(also used by ``engine.open_follow_up`` for scheduled-activity findings).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from itsmcore.machine import apply_link
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.records import Actor, Link, Record, Step
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = [
    "CHANNELS",
    "DEFAULT_FOLLOW_UP_THRESHOLD",
    "FEEDBACK_KINDS",
    "SPEC",
    "follow_up_fields",
    "follow_up_steps",
]

#: How feedback arrives (seed R5.5-03).
CHANNELS: Final = ("online_questionnaire", "phone_interview", "service_desk")
#: What the feedback is (a complaint feeds the complaint-rate KPI, seed R5.2-05).
FEEDBACK_KINDS: Final = ("survey", "complaint", "compliment", "suggestion")
#: CSAT scores at or below this open a follow-up unless the host sets another threshold.
DEFAULT_FOLLOW_UP_THRESHOLD: Final = 2


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _needs_follow_up(fields: Mapping[str, Any], options: Mapping[str, Any]) -> bool:
    csat, nps = fields.get("csat"), fields.get("nps")
    limit = options.get("follow_up_threshold", DEFAULT_FOLLOW_UP_THRESHOLD)
    nps_limit = options.get("nps_follow_up_threshold")
    low_csat = csat is not None and csat <= limit
    low_nps = nps is not None and nps_limit is not None and nps <= nps_limit
    return bool(low_csat or low_nps)


@BUILTINS.effect("feedback.score")
def _score(ctx: Context) -> Mapping[str, Any]:
    """Stamp the response and derive ``follow_up_required`` from the scores."""
    return {
        "responded_at": ctx.at,
        "follow_up_required": _needs_follow_up(ctx.fields, ctx.options),
    }


@BUILTINS.guard("feedback.loop_closed")
def _loop_closed(ctx: Context) -> str | None:
    """Low-scored feedback closes only once its follow-up is recorded."""
    if ctx.value("follow_up_required") and ctx.value("follow_up") is None:
        return (
            "the score asks for a follow-up: open it (engine.respond_to_survey or "
            "engine.open_follow_up) or record it with 'record_follow_up' before closing"
        )
    return None


@BUILTINS.guard("feedback.scores_fixed")
def _scores_fixed(ctx: Context) -> str | None:
    """Scores are given once, by ``respond``; nobody pre-sets (on ``open``) or edits a
    customer's rating."""
    before = ctx.record.fields if ctx.record is not None else {}
    changed = [n for n in ("csat", "nps") if ctx.changes.get(n, before.get(n)) != before.get(n)]
    if changed:
        return f"{', '.join(changed)} are given only with 'respond'"
    return None


@BUILTINS.guard("feedback.analysis_written")
def _analysis_written(ctx: Context) -> str | None:
    if _blank(ctx.value("analysis")):
        return "write the 'analysis' (non-blank text)"
    return None


@BUILTINS.guard("feedback.action_written")
def _action_written(ctx: Context) -> str | None:
    if _blank(ctx.value("action_taken")):
        return "describe the 'action_taken' (non-blank text)"
    return None


_AFTER_RESPONSE: Final = ("responded", "analysed", "actioned")

SPEC: Final = ProcessSpec(
    name="feedback",
    version=1,
    title="Feedback",
    id_prefix="FBK",
    description="A customer's rating of a record, analysed and acted on.",
    states=(
        StateSpec("sent", "open", initial=True, description="Survey sent, no answer yet."),
        StateSpec("responded", "resolved", description="The customer answered."),
        StateSpec("analysed", "resolved", description="The answer was analysed."),
        StateSpec("actioned", "resolved", description="Action was taken on it."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("expired", "cancelled", terminal=True, description="No answer in time."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("subject", "ref", required=True, description="The rated record."),
        FieldSpec("respondent", "str", required=True),
        FieldSpec("kind", "enum", choices=FEEDBACK_KINDS),
        FieldSpec("channel", "enum", choices=CHANNELS),
        FieldSpec("service", "ref"),
        FieldSpec("agent", "str", description="Who handled the rated record."),
        FieldSpec("expires_at", "datetime"),
        FieldSpec("csat", "int", minimum=1, maximum=5, description="1 very dissatisfied … 5"),
        FieldSpec("nps", "int", minimum=0, maximum=10, description="Likelihood to recommend."),
        FieldSpec("comment", "text"),
        FieldSpec("responded_at", "datetime", derived=True),
        FieldSpec("follow_up_required", "bool", derived=True),
        FieldSpec("follow_up", "ref", description="The follow-up record (e.g. an incident)."),
        FieldSpec("analysis", "text"),
        FieldSpec("action_taken", "text"),
    ),
    opening=TransitionSpec("open", (), "sent", guards=("feedback.scores_fixed",)),
    transitions=(
        TransitionSpec(
            "respond", ("sent",), "responded", requires=("csat",), effects=("feedback.score",)
        ),
        TransitionSpec("expire", ("sent",), "expired", guards=("feedback.scores_fixed",)),
        TransitionSpec(
            "analyse",
            ("responded",),
            "analysed",
            requires=("analysis",),
            guards=("feedback.scores_fixed", "feedback.analysis_written"),
        ),
        TransitionSpec(
            "record_action",
            ("analysed",),
            "actioned",
            requires=("action_taken",),
            guards=("feedback.scores_fixed", "feedback.action_written"),
        ),
        TransitionSpec(
            "record_follow_up",
            _AFTER_RESPONSE,
            "=",
            requires=("follow_up",),
            guards=("feedback.scores_fixed",),
        ),
        TransitionSpec(
            "close",
            _AFTER_RESPONSE,
            "closed",
            guards=("feedback.scores_fixed", "feedback.loop_closed"),
        ),
        TransitionSpec("update", ("*",), "=", guards=("feedback.scores_fixed",)),
    ),
    timers=(TimerSpec("expire", "sent", event="expire", at_field="expires_at"),),
)


def follow_up_fields(feedback: Record, spec: ProcessSpec) -> dict[str, Any]:
    """Default opening fields for the follow-up of ``feedback`` in process ``spec``.

    Offers ``title``, ``description``, ``caller`` (the respondent), ``service``,
    ``impact`` 3 and ``urgency`` 2 (a dissatisfied customer is not an outage; override
    them per call) and ``category`` ``customer_feedback``, keeping only the fields
    ``spec`` declares and may be given. A host merges its own fields over these.
    """
    csat = feedback.get("csat")
    offered: dict[str, Any] = {
        "title": f"Follow up {feedback.id}: low satisfaction (CSAT {csat}) on "
        f"{feedback.get('subject')}",
        "description": feedback.get("comment"),
        "caller": feedback.get("respondent"),
        "service": feedback.get("service"),
        "impact": 3,
        "urgency": 2,
        "category": "customer_feedback",
    }
    settable = {f.name for f in spec.fields if not f.derived}
    return {k: v for k, v in offered.items() if k in settable and v is not None}


def follow_up_steps(
    *,
    source: Record,
    source_spec: ProcessSpec,
    follow_spec: ProcessSpec,
    follow_up_id: str,
    at: datetime,
    actor: Actor,
    fields: Mapping[str, Any] | None,
    event: str = "record_follow_up",
    ref_field: str = "follow_up",
    link_kind: str = "follow_up_of",
) -> list[Step]:
    """The steps that open a follow-up of ``source`` and record it there, purely.

    In order: open ``follow_up_id`` in ``follow_spec`` with ``fields``; link it
    ``link_kind`` the source (a ``link`` event on both records); fire ``event`` on the
    source with ``{ref_field: follow_up_id}``. Save them in one ``Storage.append`` so
    the follow-up exists exactly when the source records it. Raises what
    :meth:`ProcessSpec.open`, :meth:`ProcessSpec.fire` and
    :func:`~itsmcore.machine.apply_link` raise (``InvalidTransition`` when the source
    cannot record a follow-up in its state); nothing is built then.
    """
    opened = follow_spec.open(record_id=follow_up_id, at=at, actor=actor, fields=fields)
    link = Link(kind=link_kind, source=follow_up_id, target=source.id, at=at.astimezone(UTC))
    linked_follow = apply_link(opened.record, follow_spec, link, actor=actor)
    linked_source = apply_link(source, source_spec, link, actor=actor)
    recorded = source_spec.fire(
        linked_source.record, event, at=at, actor=actor, fields={ref_field: follow_up_id}
    )
    return [opened, linked_follow, linked_source, recorded]
