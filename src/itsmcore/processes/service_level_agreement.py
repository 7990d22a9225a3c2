"""The service level agreement process: negotiate, approve, activate and review an SLA,
OLA or underpinning contract.

ISO/IEC 20000-1 clause 8.3.3 (service level management); the seed's R2.5-01 (the four
elements of an SLA), R2.5-02 (formal agreement lifecycle), R2.5-04 (periodic review),
R2.4-03 (indicator kinds) and R2.4-04 (SLAs matched to services). States and rules:

- ``draft`` → ``negotiating`` (``negotiate``, requires ``counterparty``) → ``approved``
  (``approve``) → ``active`` (``activate``) → ``under_review`` (``review``) →
  ``active`` (``complete_review``) or ``retired`` (``retire``, requires ``reason``;
  ``superseded_by`` names a successor). ``renegotiate`` takes an approved agreement or
  one under review back to ``negotiating`` (requires ``reason``); ``abandon`` ends a
  draft or negotiation (requires ``reason``).
- ``kind`` is ``sla`` (with a customer), ``ola`` (between internal teams) or ``uc``
  (underpinning contract with a supplier: see also the ``supplier_contract`` process).
- **The four elements** (R2.5-01): ``approve`` needs ``goals``, ``indicators`` (each
  "metric comparator value [unit]", e.g. ``"availability >= 99.9 %"``, parsed by
  :func:`parse_indicator`), ``delivery_mode`` and ``responsible_party``, plus the
  ``customer_signatory`` who agreed and ``valid_from`` (``valid_until``, when given,
  is after it). It needs the role ``service_level_manager`` and records ``approved_by``
  and ``approved_at``.
- **SLA policy** (R2.5-02): ``activate`` names the :class:`~itsmcore.sla.policy.
  SlaPolicy` the agreement puts in force by ``sla_policy`` and ``sla_policy_version``
  (a name and version, not a copy: the SLA engine owns the policy). Activation is
  refused after ``valid_until``. Once active, the policy changes only at
  ``complete_review`` and its version never goes back.
- **Review cadence** (R2.5-04): ``review_cadence`` (``monthly`` by default:
  ``options["review_cadence"]``) sets ``review_due`` on activation and after each
  review; the ``review_due`` timer signals it while the agreement is active.
- The agreed content (kind, service, counterparty, the four elements, signatory,
  validity) changes only by ``renegotiate``: ``update`` refuses it once approved.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from itsmcore.errors import SpecError, ValidationError
from itsmcore.processes.service import is_blank
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = [
    "AGREED_FIELDS",
    "CADENCES",
    "DEFAULT_REVIEW_CADENCE",
    "KINDS",
    "REVIEW_OUTCOMES",
    "SPEC",
    "Indicator",
    "add_months",
    "next_review",
    "parse_indicator",
]

#: ``sla`` with a customer, ``ola`` between internal teams, ``uc`` with a supplier (the
#: same kinds as :data:`itsmcore.sla.policy.POLICY_KINDS`).
KINDS: Final = ("sla", "ola", "uc")
#: Review cadences and their length in calendar months.
CADENCES: Final[Mapping[str, int]] = {"monthly": 1, "quarterly": 3, "semi_annual": 6, "annual": 12}
#: The seed's one stated cadence (4.5: "from quarterly to monthly").
DEFAULT_REVIEW_CADENCE: Final = "monthly"
#: What a review concluded.
REVIEW_OUTCOMES: Final = ("confirmed", "targets_adjusted", "policy_changed")
#: Fields fixed by the agreement: ``update`` refuses changes to them once approved.
AGREED_FIELDS: Final = (
    "kind",
    "service",
    "counterparty",
    "goals",
    "indicators",
    "delivery_mode",
    "responsible_party",
    "customer_signatory",
    "valid_from",
    "valid_until",
)
_POLICY_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_INDICATOR = re.compile(
    r"^\s*(?P<metric>[A-Za-z][\w .%/()-]*?)\s*(?P<op><=|>=|==|<|>)\s*"
    r"(?P<value>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<unit>\S.*?)?\s*$"
)


@attrs.frozen(slots=True)
class Indicator:
    """One service level indicator with its target: ``metric comparator value unit``."""

    metric: str
    comparator: str
    value: float
    unit: str = ""

    def met_by(self, measured: float) -> bool:
        """True when ``measured`` meets the target."""
        compare = {
            "<=": measured <= self.value,
            "<": measured < self.value,
            ">=": measured >= self.value,
            ">": measured > self.value,
            "==": measured == self.value,
        }
        return compare[self.comparator]


def parse_indicator(text: str) -> Indicator:
    """Read ``"availability >= 99.9 %"`` or ``"first response p1 <= 20 min"``.

    Raises :class:`ValidationError` (path ``$.indicators``) for text without a metric,
    a comparator (``<=``, ``<``, ``>=``, ``>``, ``==``) and a number.
    """
    match = _INDICATOR.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError.single(
            "$.indicators",
            f"{text!r} is not 'metric comparator value [unit]', e.g. 'availability >= 99.9 %'",
        )
    return Indicator(
        metric=match["metric"].strip(),
        comparator=match["op"],
        value=float(match["value"]),
        unit=(match["unit"] or "").strip(),
    )


def add_months(when: datetime, months: int) -> datetime:
    """``when`` moved by whole calendar months, the day clamped to the month's end
    (31 January + 1 month = 28 or 29 February), same wall-clock time and zone."""
    index = when.month - 1 + months
    year, month = when.year + index // 12, index % 12 + 1
    day = min(when.day, calendar.monthrange(year, month)[1])
    return when.replace(year=year, month=month, day=day)


def _cadence(ctx: Context) -> str:
    own = ctx.value("review_cadence")
    if own is not None:
        return str(own)
    option = ctx.options.get("review_cadence", DEFAULT_REVIEW_CADENCE)
    if option not in CADENCES:
        raise SpecError(
            ctx.spec.name,
            [f"options.review_cadence: {option!r} is not one of {', '.join(CADENCES)}"],
        )
    return str(option)


def next_review(ctx: Context) -> datetime:
    """When the next review is due: the event time plus the agreement's
    ``review_cadence`` (else ``options["review_cadence"]``, else monthly), in UTC."""
    return add_months(ctx.at, CADENCES[_cadence(ctx)])


@BUILTINS.guard("service_level_agreement.indicators")
def _indicators(ctx: Context) -> str | None:
    """Every indicator reads as a metric with a numeric target."""
    for text in ctx.value("indicators") or ():
        try:
            parse_indicator(text)
        except ValidationError as exc:
            return exc.errors[0][1]
    return None


@BUILTINS.guard("service_level_agreement.validity")
def _validity(ctx: Context) -> str | None:
    """``valid_until`` is after ``valid_from``; activation happens within validity."""
    start, end = ctx.value("valid_from"), ctx.value("valid_until")
    if start is not None and end is not None and end <= start:
        return f"valid_until {end} must be after valid_from {start}"
    if ctx.event == "activate" and end is not None and ctx.at.date() > end:
        return f"the agreement expired on {end}: renegotiate a new validity period"
    return None


def _policy_problem(ctx: Context) -> str | None:
    name = ctx.value("sla_policy")
    if name is not None and not _POLICY_NAME.match(name):
        return f"sla_policy {name!r} is not a policy name (lower-case, digits, '_' or '-')"
    version = ctx.value("sla_policy_version")
    if version is not None and version < 1:
        return "sla_policy_version starts at 1"
    record = ctx.record
    if record is None or version is None:
        return None
    in_force = record.get("sla_policy_version")
    if in_force is None or record.get("sla_policy") is None:
        return None
    if name == record.get("sla_policy") and version < in_force:
        return (
            f"{name} version {record.get('sla_policy_version')} is in force: a review may "
            f"move to a later version, never back to {version}"
        )
    return None


@BUILTINS.guard("service_level_agreement.policy")
def _policy(ctx: Context) -> str | None:
    """The policy reference is a valid name and version, and the version in force
    never goes back."""
    if is_blank(ctx.value("sla_policy")):
        return "name the SLA policy this agreement puts in force (sla_policy)"
    return _policy_problem(ctx)


@BUILTINS.guard("service_level_agreement.keeps_agreement")
def _keeps_agreement(ctx: Context) -> str | None:
    """No event changes agreed content once approved (``renegotiate`` instead), and none
    but ``complete_review`` changes the policy reference once active."""
    record = ctx.record
    if record is None:
        return None
    cleared = [
        n for n in ("title", "kind", "service") if n in ctx.changes and is_blank(ctx.changes[n])
    ]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value"
    changed = {n for n, v in ctx.changes.items() if v != record.get(n)}
    if ctx.source != "draft" and ctx.source != "negotiating":
        agreed = sorted(changed & set(AGREED_FIELDS))
        if agreed:
            return f"{', '.join(agreed)} were agreed: renegotiate to change them"
    if ctx.source in ("active", "under_review") and ctx.event != "complete_review":
        policy = sorted(changed & {"sla_policy", "sla_policy_version"})
        if policy:
            return f"{', '.join(policy)} change only at complete_review"
    return _policy_problem(ctx)


@BUILTINS.effect("service_level_agreement.approved")
def _approved(ctx: Context) -> Mapping[str, Any] | None:
    """Who approved the agreement and when (R2.5-02)."""
    return {"approved_by": ctx.actor.id, "approved_at": ctx.at}


@BUILTINS.effect("service_level_agreement.activated")
def _activated(ctx: Context) -> Mapping[str, Any] | None:
    """Stamp the activation and schedule the first review."""
    return {"activated_at": ctx.at, "review_due": next_review(ctx)}


@BUILTINS.effect("service_level_agreement.review_started")
def _review_started(ctx: Context) -> Mapping[str, Any] | None:
    """A new review states its own outcome."""
    return {"review_outcome": None, "review_notes": None}


@BUILTINS.effect("service_level_agreement.reviewed")
def _reviewed(ctx: Context) -> Mapping[str, Any] | None:
    """Count the review and schedule the next one."""
    return {
        "last_reviewed_at": ctx.at,
        "review_count": ctx.value("review_count", 0) + 1,
        "review_due": next_review(ctx),
    }


@BUILTINS.effect("service_level_agreement.renegotiated")
def _renegotiated(ctx: Context) -> Mapping[str, Any] | None:
    """A renegotiated agreement must be approved again."""
    return {"approved_by": None, "approved_at": None, "review_due": None}


_FILLED = "service.filled"
_ELEMENTS = ("goals", "indicators", "delivery_mode", "responsible_party")

_KEEPS = "service_level_agreement.keeps_agreement"

SPEC: Final = ProcessSpec(
    name="service_level_agreement",
    version=1,
    title="Service level agreement",
    id_prefix="SLA",
    description="Agree, activate and periodically review service levels (SLA, OLA, UC).",
    states=(
        StateSpec("draft", "open", initial=True),
        StateSpec("negotiating", "open"),
        StateSpec("approved", "open", description="Signed, not yet in force."),
        StateSpec("active", "active", description="In force: its SLA policy applies."),
        StateSpec("under_review", "active", description="In force, being reviewed."),
        StateSpec("retired", "closed", terminal=True),
        StateSpec("abandoned", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("kind", "enum", required=True, choices=KINDS),
        FieldSpec("service", "ref", required=True, description="The service record covered."),
        FieldSpec(
            "counterparty", "str", description="The customer (sla), team (ola) or supplier (uc)."
        ),
        FieldSpec("goals", "text"),
        FieldSpec("indicators", "list", description="'metric comparator value [unit]' each."),
        FieldSpec("delivery_mode", "str"),
        FieldSpec("responsible_party", "str"),
        FieldSpec("customer_signatory", "str", description="Who agreed for the counterparty."),
        FieldSpec("valid_from", "date"),
        FieldSpec("valid_until", "date"),
        FieldSpec("sla_policy", "str", description="Name of the SlaPolicy put in force."),
        FieldSpec("sla_policy_version", "int", minimum=1),
        FieldSpec("review_cadence", "enum", choices=tuple(CADENCES)),
        FieldSpec("review_outcome", "enum", choices=REVIEW_OUTCOMES),
        FieldSpec("review_notes", "text"),
        FieldSpec("superseded_by", "ref"),
        FieldSpec("reason", "text"),
        FieldSpec("approved_by", "str", derived=True),
        FieldSpec("approved_at", "datetime", derived=True),
        FieldSpec("activated_at", "datetime", derived=True),
        FieldSpec("review_due", "datetime", derived=True),
        FieldSpec("last_reviewed_at", "datetime", derived=True),
        FieldSpec("review_count", "int", derived=True),
    ),
    opening=TransitionSpec("open", (), "draft", guards=(_FILLED,)),
    transitions=(
        TransitionSpec(
            "negotiate", ("draft",), "negotiating", requires=("counterparty",), guards=(_FILLED,)
        ),
        TransitionSpec(
            "approve",
            ("negotiating",),
            "approved",
            roles=("service_level_manager",),
            requires=(*_ELEMENTS, "customer_signatory", "valid_from"),
            guards=(
                _FILLED,
                "service_level_agreement.indicators",
                "service_level_agreement.validity",
            ),
            effects=("service_level_agreement.approved",),
        ),
        TransitionSpec(
            "activate",
            ("approved",),
            "active",
            roles=("service_level_manager",),
            requires=("sla_policy", "sla_policy_version"),
            guards=(
                "service_level_agreement.policy",
                "service_level_agreement.validity",
                _KEEPS,
            ),
            effects=("service_level_agreement.activated",),
        ),
        TransitionSpec(
            "review",
            ("active",),
            "under_review",
            guards=(_KEEPS,),
            effects=("service_level_agreement.review_started",),
        ),
        TransitionSpec(
            "complete_review",
            ("under_review",),
            "active",
            roles=("service_level_manager",),
            requires=("review_outcome", "review_notes"),
            guards=(_FILLED, "service_level_agreement.policy", _KEEPS),
            effects=("service_level_agreement.reviewed",),
        ),
        TransitionSpec(
            "renegotiate",
            ("approved", "under_review"),
            "negotiating",
            requires=("reason",),
            guards=("common.has_reason",),
            effects=("service_level_agreement.renegotiated",),
        ),
        TransitionSpec(
            "retire",
            ("under_review",),
            "retired",
            roles=("service_level_manager",),
            requires=("reason",),
            guards=("common.has_reason", _KEEPS),
        ),
        TransitionSpec(
            "abandon",
            ("draft", "negotiating"),
            "abandoned",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_KEEPS,)),
    ),
    timers=(TimerSpec("review_due", "active", at_field="review_due"),),
)
