"""The continuity plan process: a business continuity / disaster recovery plan with its
recovery objectives, proven by tests, invoked by major and security incidents.

ISO/IEC 20000-1 clauses 8.7.1 (service availability management) and 8.7.2 (service
continuity management: plans, tests at planned intervals, invocation); the seed's
R4.2-02 (a plan per service with RTO, recovery steps, owner, last tested), R6.5-05
(recovery through BCP/DRP, measured against the RTO) and R6.1-04 (risks link to plans).
The seed's 7.2 calls a measured time "RTO"; here the RTO and RPO are the plan's
*objectives* and tests and invocations record the *achieved* times. States and rules:

- ``draft`` → ``approved`` (``approve``) → ``tested`` (a ``test`` that met both
  objectives) → ``active`` (``activate``) → ``under_review`` (``review``) → ``active``
  (``complete_review``) or back to ``draft`` (``revise``, requires ``reason``: a changed
  plan is approved and tested again). ``retire`` (requires ``reason``) ends a plan in
  any state but ``invoked``.
- **Objectives**: ``approve`` needs ``scenario``, ``recovery_steps``, ``rto`` and
  ``rpo`` (durations above zero), the role ``continuity_manager``, and an approver who is
  not the plan's ``owner``. The objectives and steps change only by ``revise``.
- **Tests** (``test``, from ``approved`` on) record ``test_recovery_time`` and
  ``test_data_loss`` against the RTO and RPO (``last_test_met_rto``,
  ``last_test_met_rpo``, ``test_count``, ``tests_failed``). From ``approved``, a test
  that met both moves the plan to ``tested``; a failed one keeps it ``approved``.
  ``activate`` needs the last test to have met both.
- **Invocation** (R6.5-05): ``invoke`` (from ``active``, requires ``invoked_by``, the
  id of the invoking record, and ``invocation_reason``) → ``invoked``;
  ``stand_down`` (requires ``achieved_recovery_time``, ``achieved_data_loss`` and
  ``recovery_notes``) returns to ``active`` and records whether the RTO and RPO were
  met. Only a security incident or a major incident may invoke a plan: the Engine checks
  the invoking record (:class:`itsmcore.service_rules.ServiceRules`).
- **Review due**: activation and each completed review set ``review_due`` to the next
  review (``options["review_cadence"]``, ``annual`` by default); the ``review_due``
  timer signals it while the plan is active.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from itsmcore.errors import SpecError
from itsmcore.processes.service import is_blank
from itsmcore.processes.service_level_agreement import CADENCES, add_months
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["DEFAULT_REVIEW_CADENCE", "INVOKERS", "OBJECTIVE_FIELDS", "SPEC"]

#: Processes whose records may invoke a plan (an incident only when ``major``).
INVOKERS: Final = ("security_incident", "incident")
#: Plans are reviewed at least this often (itsmcore's default; the seed gives none).
DEFAULT_REVIEW_CADENCE: Final = "annual"
#: What ``approve`` approves; changed only by ``revise``.
OBJECTIVE_FIELDS: Final = ("service", "scenario", "recovery_steps", "rto", "rpo")

_ZERO: Final = timedelta(0)


@BUILTINS.guard("continuity_plan.objectives")
def _objectives(ctx: Context) -> str | None:
    """The RTO and RPO are longer than zero."""
    bad = [n for n in ("rto", "rpo") if ctx.value(n) is not None and ctx.value(n) <= _ZERO]
    if bad:
        return f"{', '.join(bad)} must be longer than zero"
    return None


@BUILTINS.guard("continuity_plan.not_owner")
def _not_owner(ctx: Context) -> str | None:
    """Segregation of duties: the plan's owner (before or after this event) does not
    approve it."""
    owners = {ctx.value("owner"), ctx.record.get("owner") if ctx.record else None}
    if ctx.actor.id in owners:
        return f"{ctx.actor.id!r} owns the plan: another continuity_manager must approve it"
    return None


def _met(achieved: timedelta | None, objective: timedelta | None) -> bool:
    return achieved is not None and objective is not None and achieved <= objective


@BUILTINS.guard("continuity_plan.test_met")
def _test_met(ctx: Context) -> str | None:
    """Condition: this test recovered within the RTO and lost no more than the RPO."""
    if not ("test_recovery_time" in ctx.changes and "test_data_loss" in ctx.changes):
        return "the test's recovery time and data loss are not recorded"
    recovery, loss = ctx.value("test_recovery_time"), ctx.value("test_data_loss")
    if not _met(recovery, ctx.value("rto")) or not _met(loss, ctx.value("rpo")):
        return "the test missed the RTO or the RPO"
    return None


@BUILTINS.guard("continuity_plan.fresh_test")
def _fresh_test(ctx: Context) -> str | None:
    """A test states its own recovery time and data loss (not the last test's)."""
    stale = [n for n in ("test_recovery_time", "test_data_loss") if n not in ctx.changes]
    if stale:
        return f"record this test's {' and '.join(stale)}"
    return None


@BUILTINS.guard("continuity_plan.proven")
def _proven(ctx: Context) -> str | None:
    """The last test met both objectives."""
    if ctx.value("last_test_met_rto") is not True or ctx.value("last_test_met_rpo") is not True:
        return "the last test did not meet the RTO and RPO: fix the plan and test it again"
    return None


@BUILTINS.effect("continuity_plan.record_test")
def _record_test(ctx: Context) -> Mapping[str, Any] | None:
    """Compare the test with the objectives and count it."""
    met_rto = _met(ctx.value("test_recovery_time"), ctx.value("rto"))
    met_rpo = _met(ctx.value("test_data_loss"), ctx.value("rpo"))
    return {
        "last_tested_at": ctx.at,
        "last_test_met_rto": met_rto,
        "last_test_met_rpo": met_rpo,
        "test_count": ctx.value("test_count", 0) + 1,
        "tests_failed": ctx.value("tests_failed", 0) + (0 if met_rto and met_rpo else 1),
    }


def _next_review(ctx: Context) -> Mapping[str, Any]:
    cadence = ctx.options.get("review_cadence", DEFAULT_REVIEW_CADENCE)
    if cadence not in CADENCES:
        raise SpecError(
            ctx.spec.name,
            [f"options.review_cadence: {cadence!r} is not one of {', '.join(CADENCES)}"],
        )
    return {"review_due": add_months(ctx.at, CADENCES[cadence])}


@BUILTINS.effect("continuity_plan.approved")
def _approved(ctx: Context) -> Mapping[str, Any] | None:
    """Who approved the plan and when."""
    return {"approved_by": ctx.actor.id, "approved_at": ctx.at}


@BUILTINS.effect("continuity_plan.activated")
def _activated(ctx: Context) -> Mapping[str, Any] | None:
    """Schedule the first review."""
    return {"activated_at": ctx.at, **_next_review(ctx)}


@BUILTINS.effect("continuity_plan.invoked")
def _invoked(ctx: Context) -> Mapping[str, Any] | None:
    """Count the invocation; the stand-down states this recovery's own results."""
    return {
        "invoked_at": ctx.at,
        "invocation_count": ctx.value("invocation_count", 0) + 1,
        "achieved_recovery_time": None,
        "achieved_data_loss": None,
        "recovery_notes": None,
    }


@BUILTINS.effect("continuity_plan.stood_down")
def _stood_down(ctx: Context) -> Mapping[str, Any] | None:
    """Measure the recovery against the plan's objectives (R6.5-05)."""
    return {
        "recovered_at": ctx.at,
        "last_recovery_met_rto": _met(ctx.value("achieved_recovery_time"), ctx.value("rto")),
        "last_recovery_met_rpo": _met(ctx.value("achieved_data_loss"), ctx.value("rpo")),
    }


@BUILTINS.effect("continuity_plan.review_started")
def _review_started(ctx: Context) -> Mapping[str, Any] | None:
    """A new review states its own findings."""
    return {"review_notes": None}


@BUILTINS.effect("continuity_plan.reviewed")
def _reviewed(ctx: Context) -> Mapping[str, Any] | None:
    """Count the review and schedule the next one."""
    return {"last_reviewed_at": ctx.at, **_next_review(ctx)}


@BUILTINS.effect("continuity_plan.revised")
def _revised(ctx: Context) -> Mapping[str, Any] | None:
    """A revised plan is approved and proven again."""
    return {
        "approved_by": None,
        "approved_at": None,
        "last_test_met_rto": None,
        "last_test_met_rpo": None,
        "review_due": None,
        "revision": ctx.value("revision", 1) + 1,
    }


@BUILTINS.guard("continuity_plan.keeps_objectives")
def _keeps_objectives(ctx: Context) -> str | None:
    """No event clears the title, service or owner; once approved, the objectives,
    scenario and steps change only by ``revise`` (so every test and recovery is
    measured against the approved RTO and RPO)."""
    cleared = [
        n for n in ("title", "service", "owner") if n in ctx.changes and is_blank(ctx.changes[n])
    ]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value"
    record = ctx.record
    if record is not None and ctx.source != "draft":
        moved = [
            n for n in OBJECTIVE_FIELDS if n in ctx.changes and ctx.changes[n] != record.get(n)
        ]
        if moved:
            return f"{', '.join(moved)} were approved: revise the plan to change them"
    return _objectives(ctx)


_TEST = ("test_recovery_time", "test_data_loss", "test_notes")
_FILLED = "service.filled"
_KEEPS = "continuity_plan.keeps_objectives"

SPEC: Final = ProcessSpec(
    name="continuity_plan",
    version=1,
    title="Continuity plan",
    id_prefix="BCP",
    description="A continuity/recovery plan: objectives, tests against them, invocation.",
    states=(
        StateSpec("draft", "open", initial=True),
        StateSpec("approved", "open", description="Approved, not yet proven by a test."),
        StateSpec("tested", "open", description="A test met the RTO and RPO."),
        StateSpec("active", "active", description="In force, ready to invoke."),
        StateSpec("invoked", "active", description="In use: a recovery is under way."),
        StateSpec("under_review", "active", description="In force, being reviewed."),
        StateSpec("retired", "closed", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("service", "ref", required=True, description="The service it protects."),
        FieldSpec("owner", "str", required=True),
        FieldSpec("scenario", "text", description="The disruptions it covers."),
        FieldSpec("recovery_steps", "text"),
        FieldSpec("rto", "duration", description="Recovery time objective."),
        FieldSpec("rpo", "duration", description="Recovery point objective (data loss)."),
        FieldSpec("risks", "list", description="ids of the risk records it treats."),
        FieldSpec("test_recovery_time", "duration"),
        FieldSpec("test_data_loss", "duration"),
        FieldSpec("test_notes", "text"),
        FieldSpec("invoked_by", "ref", description="The security or major incident."),
        FieldSpec("invocation_reason", "text"),
        FieldSpec("achieved_recovery_time", "duration"),
        FieldSpec("achieved_data_loss", "duration"),
        FieldSpec("recovery_notes", "text"),
        FieldSpec("review_notes", "text"),
        FieldSpec("reason", "text"),
        FieldSpec("approved_by", "str", derived=True),
        FieldSpec("approved_at", "datetime", derived=True),
        FieldSpec("activated_at", "datetime", derived=True),
        FieldSpec("last_tested_at", "datetime", derived=True),
        FieldSpec("last_test_met_rto", "bool", derived=True),
        FieldSpec("last_test_met_rpo", "bool", derived=True),
        FieldSpec("test_count", "int", derived=True),
        FieldSpec("tests_failed", "int", derived=True),
        FieldSpec("invoked_at", "datetime", derived=True),
        FieldSpec("invocation_count", "int", derived=True),
        FieldSpec("recovered_at", "datetime", derived=True),
        FieldSpec("last_recovery_met_rto", "bool", derived=True),
        FieldSpec("last_recovery_met_rpo", "bool", derived=True),
        FieldSpec("review_due", "datetime", derived=True),
        FieldSpec("last_reviewed_at", "datetime", derived=True),
        FieldSpec("revision", "int", derived=True),
    ),
    opening=TransitionSpec("open", (), "draft", guards=(_FILLED,)),
    transitions=(
        TransitionSpec(
            "approve",
            ("draft",),
            "approved",
            roles=("continuity_manager",),
            requires=("scenario", "recovery_steps", "rto", "rpo"),
            guards=(_FILLED, "continuity_plan.objectives", "continuity_plan.not_owner"),
            effects=("continuity_plan.approved",),
        ),
        TransitionSpec(
            "test",
            ("approved",),
            "tested",
            conditions=("continuity_plan.test_met",),
            requires=_TEST,
            guards=(_FILLED, _KEEPS, "continuity_plan.fresh_test"),
            effects=("continuity_plan.record_test",),
        ),
        TransitionSpec(
            "test",
            ("approved", "tested", "active", "under_review"),
            "=",
            requires=_TEST,
            guards=(_FILLED, _KEEPS, "continuity_plan.fresh_test"),
            effects=("continuity_plan.record_test",),
        ),
        TransitionSpec(
            "activate",
            ("tested",),
            "active",
            roles=("continuity_manager",),
            guards=(_KEEPS, "continuity_plan.proven"),
            effects=("continuity_plan.activated",),
        ),
        TransitionSpec(
            "invoke",
            ("active",),
            "invoked",
            requires=("invoked_by", "invocation_reason"),
            guards=(_FILLED, _KEEPS),
            effects=("continuity_plan.invoked",),
        ),
        TransitionSpec(
            "stand_down",
            ("invoked",),
            "active",
            requires=("achieved_recovery_time", "achieved_data_loss", "recovery_notes"),
            guards=(_FILLED, _KEEPS),
            effects=("continuity_plan.stood_down",),
        ),
        TransitionSpec(
            "review",
            ("active",),
            "under_review",
            guards=(_KEEPS,),
            effects=("continuity_plan.review_started",),
        ),
        TransitionSpec(
            "complete_review",
            ("under_review",),
            "active",
            requires=("review_notes",),
            guards=(_FILLED, _KEEPS),
            effects=("continuity_plan.reviewed",),
        ),
        TransitionSpec(
            "revise",
            ("under_review",),
            "draft",
            requires=("reason",),
            guards=("common.has_reason",),
            effects=("continuity_plan.revised",),
        ),
        TransitionSpec(
            "retire",
            ("draft", "approved", "tested", "active", "under_review"),
            "retired",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "update",
            ("draft", "approved", "tested", "active", "invoked", "under_review"),
            "=",
            guards=(_KEEPS,),
        ),
    ),
    timers=(TimerSpec("review_due", "active", at_field="review_due"),),
)
