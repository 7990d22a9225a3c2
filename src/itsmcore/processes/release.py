"""The release process: build, test, approve, deploy and verify a set of changes.

ISO/IEC 20000-1 clause 8.5.3 (release and deployment management); the seed's R3.4-01
(test levels), R3.5-01 (deploy only what passed testing), R3.5-02 (deployment plan),
R3.5-03 (pre-deployment environment check), R3.5-04 (deployment log: time, deployer,
environment, result) and R3.5-06 (final verification before go-live). States and rules:

- ``planning`` → ``building`` (``build``) → ``testing`` (``start_testing``) →
  ``awaiting_approval`` (``request_approval``) → ``deploying`` (``approve``) →
  ``verifying`` (``verify``) → ``closed`` (``close``); ``rollback`` from ``deploying`` or
  ``verifying`` to ``rolled_back`` (requires ``rollback_reason``); ``cancel`` before
  deployment (requires ``cancellation_reason``);
- in ``testing``, ``pass_test`` records one passed ``test_level`` in the derived list
  ``tests_passed``; levels pass in the order of ``options["test_levels"]`` (default unit,
  integration, system, acceptance) unless ``options["test_levels_in_order"]`` is false.
  ``fail_test`` sends the release back to ``building`` and clears ``tests_passed``: a
  rebuilt release is retested at every level;
- ``request_approval`` requires every level of ``options["test_levels"]`` passed;
- ``approve`` needs the role ``release_manager`` or ``cab_member``, and (unless
  ``options["require_shipped_change"]`` is false) a ``ships`` link to at least one
  change: ``engine.link(release_id, change_id, "ships")``;
- ``deploy`` (in ``deploying``) records one deployment: it requires ``environment``,
  ``environment_check`` = ``passed`` (R3.5-03) and ``deployment_result`` given with the
  event; the time and the deployer are the event's own. Each deployment is appended to
  the derived list ``deployments`` (read it with :func:`deployment_log`). When
  ``options["environments"]`` lists names, the environment must be one of them;
- ``verify`` requires that the latest deployment succeeded; ``close`` requires
  ``verification_result`` = ``passed`` (a failed verification is rolled back).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from itsmcore._time import to_utc_text
from itsmcore._values import parse_utc_text
from itsmcore.errors import SpecError, did_you_mean
from itsmcore.processes.change_rules import out_of_place
from itsmcore.records import Record
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = [
    "DEPLOYMENT_RESULTS",
    "FIELD_PLACES",
    "SPEC",
    "STRATEGIES",
    "TEST_LEVELS",
    "Deployment",
    "deployment_log",
]

#: The test levels of seed R3.4-01 (``acceptance`` is user acceptance, UAT), in order.
TEST_LEVELS: Final = ("unit", "integration", "system", "acceptance")
DEPLOYMENT_RESULTS: Final = ("succeeded", "failed")
CHECK_RESULTS: Final = ("passed", "failed")
#: Deployment strategies (seed R3.5-02).
STRATEGIES: Final = ("big_bang", "phased", "canary", "blue_green")

_SEP: Final = "|"


@attrs.frozen(slots=True)
class Deployment:
    """One entry of a release's deployment log (seed R3.5-04)."""

    at: datetime
    environment: str
    result: str
    deployer: str


def deployment_log(record: Record) -> tuple[Deployment, ...]:
    """The deployments of a release record, oldest first.

    Each entry of the derived ``deployments`` field is ``"<UTC time>|<environment>|
    <result>|<deployer id>"``; this parses them back.
    """
    entries: list[Deployment] = []
    for entry in record.get("deployments", ()):
        at, environment, result, deployer = entry.split(_SEP, 3)
        entries.append(
            Deployment(
                at=parse_utc_text(at),
                environment=environment,
                result=result,
                deployer=deployer,
            )
        )
    return tuple(entries)


def _levels(options: Mapping[str, Any]) -> tuple[str, ...]:
    raw = options.get("test_levels", TEST_LEVELS)
    if isinstance(raw, str) or not isinstance(raw, Sequence):
        raise SpecError("release", ["options.test_levels: expected a list of test levels"])
    unknown = [level for level in raw if level not in TEST_LEVELS]
    if unknown:
        raise SpecError(
            "release",
            [f"options.test_levels: unknown {unknown}; choose from {', '.join(TEST_LEVELS)}"],
        )
    return tuple(raw)


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@BUILTINS.guard("release.level_in_order")
def _level_in_order(ctx: Context) -> str | None:
    """A level passes only after the levels before it (system before acceptance)."""
    if ctx.options.get("test_levels_in_order", True) is False:
        return None
    levels = _levels(ctx.options)
    level = ctx.value("test_level")
    if level not in levels:
        return None
    passed = ctx.value("tests_passed", ())
    earlier = [lv for lv in levels[: levels.index(level)] if lv not in passed]
    if earlier:
        return f"pass the {', '.join(earlier)} test level(s) before {level!r}"
    return None


@BUILTINS.effect("release.record_pass")
def _record_pass(ctx: Context) -> Mapping[str, Any] | None:
    passed = tuple(ctx.value("tests_passed", ()))
    level = ctx.value("test_level")
    if level in passed:
        return None
    return {"tests_passed": (*passed, level)}


@BUILTINS.effect("release.clear_passes")
def _clear_passes(ctx: Context) -> Mapping[str, Any] | None:
    return {"tests_passed": None}


@BUILTINS.guard("release.all_levels_passed")
def _all_levels_passed(ctx: Context) -> str | None:
    """Only a release that passed every test level goes for approval (R3.5-01)."""
    passed = ctx.value("tests_passed", ())
    missing = [lv for lv in _levels(ctx.options) if lv not in passed]
    if missing:
        return f"the {', '.join(missing)} test level(s) have not passed: fire 'pass_test'"
    return None


@BUILTINS.guard("release.ships_change")
def _ships_change(ctx: Context) -> str | None:
    """A release ships at least one change (all change goes through change control)."""
    if ctx.options.get("require_shipped_change", True) is False:
        return None
    assert ctx.record is not None
    if not any(link.kind == "ships" and link.source == ctx.record.id for link in ctx.record.links):
        return (
            "the release ships no change: link one with engine.link(release_id, change_id, 'ships')"
        )
    return None


@BUILTINS.guard("release.deployment_given")
def _deployment_given(ctx: Context) -> str | None:
    """Each deployment states its environment, a passed environment check and a result."""
    missing = [
        name
        for name in ("environment", "environment_check", "deployment_result")
        if ctx.changes.get(name) is None
    ]
    if missing:
        return f"give {', '.join(missing)} with each 'deploy' (the deployment log needs them)"
    environment = ctx.changes["environment"]
    if _blank(environment) or _SEP in environment:
        return f"environment {environment!r} must be a non-blank name without {_SEP!r}"
    known = ctx.options.get("environments") or ()
    if known and environment not in known:
        hint = did_you_mean(environment, known)
        return f"unknown environment {environment!r}{hint}; use one of {', '.join(known)}"
    if ctx.changes["environment_check"] != "passed":
        return (
            f"the {environment} environment check did not pass: align the environment "
            "with production and check again before deploying"
        )
    return None


@BUILTINS.effect("release.log_deployment")
def _log_deployment(ctx: Context) -> Mapping[str, Any] | None:
    entry = _SEP.join(
        (
            to_utc_text(ctx.at),
            str(ctx.changes["environment"]),
            str(ctx.changes["deployment_result"]),
            ctx.actor.id,
        )
    )
    return {"deployments": (*ctx.value("deployments", ()), entry)}


@BUILTINS.guard("release.last_deployment_succeeded")
def _last_deployment_succeeded(ctx: Context) -> str | None:
    """Verification starts from a successful deployment."""
    entries = ctx.value("deployments", ())
    if not entries:
        return "nothing is deployed yet: fire 'deploy' first"
    if entries[-1].split(_SEP, 3)[2] != "succeeded":
        return "the latest deployment failed: deploy again or roll back"
    return None


@BUILTINS.guard("release.verification_passed")
def _verification_passed(ctx: Context) -> str | None:
    """Go-live needs a passed final verification, given when closing (R3.5-06)."""
    result = ctx.changes.get("verification_result")
    if result is None:
        return "give the final 'verification_result' with 'close'"
    if result != "passed":
        return "the final verification did not pass: roll the release back instead"
    return None


@BUILTINS.guard("release.rollback_reason")
def _rollback_reason(ctx: Context) -> str | None:
    if _blank(ctx.changes.get("rollback_reason")):
        return "give a non-blank 'rollback_reason'"
    return None


@BUILTINS.guard("release.cancellation_reason")
def _cancellation_reason(ctx: Context) -> str | None:
    if _blank(ctx.changes.get("cancellation_reason")):
        return "give a non-blank 'cancellation_reason'"
    return None


#: Where the facts of testing, deployment and verification may be given, as
#: ``(state, event)`` pairs: only with the event that records them (any event may carry
#: fields, so without this a deployment result could be written while planning).
FIELD_PLACES: Final[Mapping[str, tuple[tuple[str, str], ...]]] = {
    "test_level": (("testing", "pass_test"), ("testing", "fail_test")),
    "environment": (("deploying", "deploy"),),
    "environment_check": (("deploying", "deploy"),),
    "deployment_result": (("deploying", "deploy"),),
    "verification_result": (("verifying", "close"), ("verifying", "rollback")),
    "verification_notes": (("verifying", "*"),),
    "rollback_reason": (("*", "rollback"),),
    "cancellation_reason": (("*", "cancel"),),
}


@BUILTINS.guard("release.fields_in_place")
def _fields_in_place(ctx: Context) -> str | None:
    """Each fact is recorded only by its own event (:data:`FIELD_PLACES`)."""
    return out_of_place(ctx, FIELD_PLACES)


@BUILTINS.guard("release.keeps_title")
def _keeps_title(ctx: Context) -> str | None:
    if _blank(ctx.value("title")):
        return "cannot empty the title: give a new one instead"
    return None


_PLACED = "release.fields_in_place"
_BEFORE_DEPLOYMENT = ("planning", "building", "testing", "awaiting_approval")

SPEC: Final = ProcessSpec(
    name="release",
    version=1,
    title="Release",
    id_prefix="REL",
    description="Make new and changed services available for use, tested and verified.",
    states=(
        StateSpec("planning", "open", initial=True, description="Scope and plan."),
        StateSpec("building", "open", description="Being built."),
        StateSpec("testing", "open", description="Test levels being passed."),
        StateSpec("awaiting_approval", "open", description="Tested; awaiting approval."),
        StateSpec("deploying", "open", description="Being deployed to environments."),
        StateSpec("verifying", "resolved", description="Final verification before go-live."),
        StateSpec("closed", "closed", terminal=True, description="Live and verified."),
        StateSpec("rolled_back", "closed", terminal=True, description="Withdrawn."),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("release_version", "str", description="The version label shipped."),
        FieldSpec("owner", "str"),
        FieldSpec("planned_start", "datetime", description="Deployment window (R3.5-02)."),
        FieldSpec("planned_end", "datetime"),
        FieldSpec("strategy", "enum", choices=STRATEGIES),
        FieldSpec("resources", "text", description="People and tools (R3.5-02)."),
        FieldSpec("test_level", "enum", choices=TEST_LEVELS),
        FieldSpec("tests_passed", "list", derived=True, choices=TEST_LEVELS),
        FieldSpec("environment", "str", description="Where the latest deploy went."),
        FieldSpec("environment_check", "enum", choices=CHECK_RESULTS),
        FieldSpec("deployment_result", "enum", choices=DEPLOYMENT_RESULTS),
        FieldSpec("deployments", "list", derived=True, description="The deployment log."),
        FieldSpec("verification_result", "enum", choices=CHECK_RESULTS),
        FieldSpec("verification_notes", "text"),
        FieldSpec("rollback_reason", "text"),
        FieldSpec("cancellation_reason", "text"),
    ),
    opening=TransitionSpec("open", (), "planning", guards=(_PLACED,)),
    transitions=(
        TransitionSpec("build", ("planning",), "building", guards=(_PLACED,)),
        TransitionSpec("start_testing", ("building",), "testing", guards=(_PLACED,)),
        TransitionSpec(
            "pass_test",
            ("testing",),
            "=",
            requires=("test_level",),
            guards=(_PLACED, "release.level_in_order"),
            effects=("release.record_pass",),
        ),
        TransitionSpec(
            "fail_test",
            ("testing",),
            "building",
            requires=("test_level",),
            guards=(_PLACED,),
            effects=("release.clear_passes",),
        ),
        TransitionSpec(
            "request_approval",
            ("testing",),
            "awaiting_approval",
            guards=(_PLACED, "release.all_levels_passed"),
        ),
        TransitionSpec(
            "approve",
            ("awaiting_approval",),
            "deploying",
            roles=("release_manager", "cab_member"),
            guards=(_PLACED, "release.ships_change"),
        ),
        TransitionSpec(
            "deploy",
            ("deploying",),
            "=",
            requires=("environment", "environment_check", "deployment_result"),
            guards=(_PLACED, "release.deployment_given"),
            effects=("release.log_deployment",),
        ),
        TransitionSpec(
            "verify",
            ("deploying",),
            "verifying",
            guards=(_PLACED, "release.last_deployment_succeeded"),
        ),
        TransitionSpec(
            "close",
            ("verifying",),
            "closed",
            requires=("verification_result",),
            guards=(_PLACED, "release.verification_passed"),
        ),
        TransitionSpec(
            "rollback",
            ("deploying", "verifying"),
            "rolled_back",
            requires=("rollback_reason",),
            guards=(_PLACED, "release.rollback_reason"),
        ),
        TransitionSpec(
            "cancel",
            _BEFORE_DEPLOYMENT,
            "cancelled",
            requires=("cancellation_reason",),
            guards=(_PLACED, "release.cancellation_reason"),
        ),
        TransitionSpec("update", _BEFORE_DEPLOYMENT, "=", guards=(_PLACED, "release.keeps_title")),
    ),
)
