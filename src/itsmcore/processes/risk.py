"""The risk process: identify, assess, treat and monitor information-security risks.

ISO/IEC 20000-1 clause 6.1 (actions to address risks) with ISO/IEC 27001 6.1.2/6.1.3
(assessment and treatment); the seed's R6.1-04 (quantitative and qualitative risk
assessment tied to continuity plans). States and rules:

- ``identified`` → ``assessed`` (``assess``, requires ``likelihood`` and ``impact``) →
  ``treatment_planned`` (``plan_treatment``) → ``treated`` (``treat``) → ``monitoring``
  (``monitor``, requires ``next_review_at``) → ``closed`` (``close``, requires a
  ``reason``);
- the **level** is qualitative: a :class:`RiskMatrix` maps (likelihood, impact) to a
  level name (``low`` … ``critical`` by default, :data:`DEFAULT_RISK_MATRIX`, or the
  host's in ``options["risk_matrix"]``); the **score** is quantitative,
  likelihood × impact. Both are derived and recomputed whenever either input changes;
  ``residual_level`` likewise from ``residual_likelihood`` × ``residual_impact``;
- ``treatment`` is one of mitigate / accept / transfer / avoid. ``plan_treatment`` has
  two branches: accepting a risk needs the role ``risk_owner`` (else ``Forbidden``) and
  a non-blank ``acceptance_rationale``, and stamps ``accepted_by``; the other
  treatments need a non-blank ``treatment_plan``;
- ``review`` (in ``monitoring``) stamps ``last_reviewed_at`` and needs the next review
  date, after the review; the ``review_due`` timer signals when ``next_review_at``
  passes. ``reassess`` takes a monitored risk back to ``assessed`` (it changed; the
  treatment is planned afresh);
- ``update`` edits descriptive fields and the likelihood and impact (before treatment
  is planned); the treatment changes only through ``plan_treatment``.

Relate a risk to its asset with the ``asset`` field (a configuration item id) and to
its business-continuity or disaster-recovery plan with ``continuity_plan``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from itsmcore.errors import SpecError, ValidationError
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["DEFAULT_RISK_MATRIX", "SPEC", "TREATMENTS", "RiskMatrix", "risk_matrix_of"]

#: ISO/IEC 27005 risk-treatment options.
TREATMENTS: Final = ("mitigate", "accept", "transfer", "avoid")


def _table(value: Mapping[tuple[int, int], str]) -> tuple[tuple[tuple[int, int], str], ...]:
    return tuple(sorted(dict(value).items()))


@attrs.frozen(slots=True)
class RiskMatrix:
    """A total map from ``(likelihood, impact)`` to a qualitative level name.

    ``levels`` lists the level names from lowest to highest; every pair of the two axes
    must map to one of them. A matrix with a gap, an off-axis cell or an unknown level is
    a :class:`SpecError` when built, not when a risk arrives.
    """

    likelihoods: tuple[int, ...]
    impacts: tuple[int, ...]
    levels: tuple[str, ...]
    table: tuple[tuple[tuple[int, int], str], ...] = attrs.field(converter=_table)

    def __attrs_post_init__(self) -> None:
        problems: list[str] = []
        lookup = dict(self.table)
        if not self.likelihoods or not self.impacts:
            problems.append("both axes need at least one value")
        if not self.levels or len(set(self.levels)) != len(self.levels):
            problems.append("levels must be distinct names, lowest first")
        for lk in self.likelihoods:
            for im in self.impacts:
                if (lk, im) not in lookup:
                    problems.append(f"missing likelihood {lk} x impact {im}")
        for (lk, im), level in lookup.items():
            if lk not in self.likelihoods or im not in self.impacts:
                problems.append(f"likelihood {lk} x impact {im} is outside the axes")
            if level not in self.levels:
                problems.append(
                    f"likelihood {lk} x impact {im}: {level!r} is not one of the levels "
                    f"{', '.join(self.levels)}"
                )
        if problems:
            raise SpecError("risk_matrix", problems)

    def level(self, likelihood: int, impact: int) -> str:
        """The level of ``(likelihood, impact)``; ``ValidationError`` off the axes."""
        for key, value in self.table:
            if key == (likelihood, impact):
                return value
        raise ValidationError(
            [
                ("$.fields.likelihood", f"must be one of {list(self.likelihoods)}"),
                ("$.fields.impact", f"must be one of {list(self.impacts)}"),
            ]
        )

    def rank(self, level: str) -> int:
        """The position of ``level`` (0 = lowest)."""
        return self.levels.index(level)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskMatrix:
        """Load ``{"likelihoods": [1..n], "impacts": [1..m], "levels": ["low", ...],
        "table": [[...m names...], ...n rows]}``: ``table[i][j]`` is the level of the
        i-th likelihood and the j-th impact. Raises :class:`SpecError`."""
        try:
            likelihoods = tuple(int(x) for x in data["likelihoods"])
            impacts = tuple(int(x) for x in data["impacts"])
            levels = tuple(str(x) for x in data["levels"])
            rows: Sequence[Sequence[str]] = data["table"]
            if len(rows) != len(likelihoods) or any(len(r) != len(impacts) for r in rows):
                raise SpecError("risk_matrix", ["table must be likelihoods x impacts"])
            table = {
                (lk, im): rows[a][b]
                for a, lk in enumerate(likelihoods)
                for b, im in enumerate(impacts)
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError("risk_matrix", [f"malformed matrix data: {exc!r}"]) from None
        return cls(likelihoods=likelihoods, impacts=impacts, levels=levels, table=table)

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form read by :meth:`from_dict`."""
        lookup = dict(self.table)
        return {
            "likelihoods": list(self.likelihoods),
            "impacts": list(self.impacts),
            "levels": list(self.levels),
            "table": [[lookup[(lk, im)] for im in self.impacts] for lk in self.likelihoods],
        }


#: A common 5 × 5 matrix (likelihood rows 1 rare … 5 almost certain, impact columns
#: 1 negligible … 5 severe). It is a convention, not the seed's: the seed gives none.
DEFAULT_RISK_MATRIX: Final = RiskMatrix.from_dict(
    {
        "likelihoods": [1, 2, 3, 4, 5],
        "impacts": [1, 2, 3, 4, 5],
        "levels": ["low", "medium", "high", "critical"],
        "table": [
            ["low", "low", "low", "medium", "medium"],
            ["low", "low", "medium", "medium", "high"],
            ["low", "medium", "medium", "high", "high"],
            ["medium", "medium", "high", "high", "critical"],
            ["medium", "high", "high", "critical", "critical"],
        ],
    }
)


def risk_matrix_of(options: Mapping[str, Any]) -> RiskMatrix:
    """The matrix in ``options["risk_matrix"]`` (a :class:`RiskMatrix` or its dict form),
    or :data:`DEFAULT_RISK_MATRIX`. A malformed one raises :class:`SpecError`."""
    value = options.get("risk_matrix")
    if value is None:
        return DEFAULT_RISK_MATRIX
    if isinstance(value, RiskMatrix):
        return value
    return RiskMatrix.from_dict(value)


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _rated(ctx: Context, likelihood: str, impact: str, prefix: str) -> dict[str, Any]:
    """The derived level and score of one (likelihood, impact) pair, if both are set."""
    if ctx.record is not None and likelihood not in ctx.changes and impact not in ctx.changes:
        return {}
    lk, im = ctx.value(likelihood), ctx.value(impact)
    if lk is None or im is None:
        # A cleared input clears the rating (on open there is nothing to clear).
        return {} if ctx.record is None else {f"{prefix}level": None, f"{prefix}score": None}
    return {f"{prefix}level": risk_matrix_of(ctx.options).level(lk, im), f"{prefix}score": lk * im}


@BUILTINS.effect("risk.rate")
def _rate(ctx: Context) -> Mapping[str, Any] | None:
    """Derive ``level``/``score`` and ``residual_level``/``residual_score``."""
    return {
        **_rated(ctx, "likelihood", "impact", ""),
        **_rated(ctx, "residual_likelihood", "residual_impact", "residual_"),
    } or None


@BUILTINS.guard("risk.treatment_is_accept")
def _treatment_is_accept(ctx: Context) -> str | None:
    """Condition: the chosen treatment is ``accept``."""
    return None if ctx.value("treatment") == "accept" else "the treatment is not 'accept'"


@BUILTINS.guard("risk.treatment_is_not_accept")
def _treatment_is_not_accept(ctx: Context) -> str | None:
    """Condition: the chosen treatment is anything but ``accept`` (or not given yet)."""
    return "the treatment is 'accept'" if ctx.value("treatment") == "accept" else None


@BUILTINS.guard("risk.acceptance_justified")
def _acceptance_justified(ctx: Context) -> str | None:
    """Accepting a risk is a decision in words: why it is tolerable."""
    if _blank(ctx.value("acceptance_rationale")):
        return "state why the risk is accepted in 'acceptance_rationale' (non-blank text)"
    return None


@BUILTINS.guard("risk.plan_described")
def _plan_described(ctx: Context) -> str | None:
    """Mitigating, transferring or avoiding a risk needs a plan in words."""
    if _blank(ctx.value("treatment_plan")):
        return f"describe how to {ctx.value('treatment')} the risk in 'treatment_plan'"
    return None


@BUILTINS.effect("risk.record_acceptance")
def _record_acceptance(ctx: Context) -> Mapping[str, Any]:
    """Who accepted the risk (the ``risk_owner`` who fired ``plan_treatment``)."""
    return {"accepted_by": ctx.actor.id}


@BUILTINS.effect("risk.clear_acceptance")
def _clear_acceptance(ctx: Context) -> Mapping[str, Any] | None:
    """A plan other than acceptance leaves no acceptance on the record."""
    return {"accepted_by": None} if ctx.value("accepted_by") is not None else None


@BUILTINS.guard("risk.treatment_via_plan")
def _treatment_via_plan(ctx: Context) -> str | None:
    """No event but ``plan_treatment`` changes the treatment (so accepting a risk always
    needs the ``risk_owner``); once planned, the rating changes only by ``reassess``."""
    record = ctx.record
    if record is None:
        return None
    fixed = ["treatment", "acceptance_rationale", "treatment_plan"]
    if ctx.target not in ("identified", "assessed"):
        fixed += ["likelihood", "impact"]
    changed = [n for n in fixed if n in ctx.changes and ctx.changes[n] != record.get(n)]
    if changed:
        return (
            f"{', '.join(changed)} change only through 'plan_treatment' or 'reassess', "
            f"not {ctx.event!r}"
        )
    return None


@BUILTINS.guard("risk.next_review_after_now")
def _next_review_after_now(ctx: Context) -> str | None:
    """The next review is in the future of the event that schedules it."""
    due = ctx.value("next_review_at")
    if due is not None and due <= ctx.at:
        return "'next_review_at' must be after the time of this event"
    return None


@BUILTINS.effect("risk.stamp_review")
def _stamp_review(ctx: Context) -> Mapping[str, Any]:
    return {"last_reviewed_at": ctx.at}


_RATE = "risk.rate"
_PLANNED = "risk.treatment_via_plan"

SPEC: Final = ProcessSpec(
    name="risk",
    version=1,
    title="Risk",
    id_prefix="RSK",
    description="Identify, assess, treat and monitor risks to services and information.",
    states=(
        StateSpec("identified", "open", initial=True, description="Recorded, not rated."),
        StateSpec("assessed", "open", description="Likelihood and impact rated."),
        StateSpec("treatment_planned", "open", description="A treatment is decided."),
        StateSpec("treated", "open", description="The treatment is carried out."),
        StateSpec("monitoring", "active", description="Reviewed periodically."),
        StateSpec("closed", "closed", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("asset", "ref", description="The configuration item at risk."),
        FieldSpec("service", "ref"),
        FieldSpec("threat", "text"),
        FieldSpec("vulnerability", "text"),
        FieldSpec("likelihood", "int", minimum=1, maximum=5, description="1 rare … 5 likely"),
        FieldSpec("impact", "int", minimum=1, maximum=5, description="1 minor … 5 severe"),
        FieldSpec("level", "str", derived=True, description="From the risk matrix."),
        FieldSpec("score", "int", derived=True, description="likelihood × impact"),
        FieldSpec("treatment", "enum", choices=TREATMENTS),
        FieldSpec("treatment_plan", "text"),
        FieldSpec("acceptance_rationale", "text"),
        FieldSpec("accepted_by", "str", derived=True),
        FieldSpec("risk_owner", "str", description="Who is accountable for the risk."),
        FieldSpec("residual_likelihood", "int", minimum=1, maximum=5),
        FieldSpec("residual_impact", "int", minimum=1, maximum=5),
        FieldSpec("residual_level", "str", derived=True),
        FieldSpec("residual_score", "int", derived=True),
        FieldSpec("treatment_notes", "text"),
        FieldSpec("continuity_plan", "ref", description="The linked BCP/DRP."),
        FieldSpec("next_review_at", "datetime"),
        FieldSpec("last_reviewed_at", "datetime", derived=True),
        FieldSpec("reason", "text"),
    ),
    opening=TransitionSpec("open", (), "identified", effects=(_RATE,)),
    transitions=(
        TransitionSpec(
            "assess",
            ("identified",),
            "assessed",
            requires=("likelihood", "impact"),
            effects=(_RATE,),
        ),
        TransitionSpec(
            "plan_treatment",
            ("assessed",),
            "treatment_planned",
            conditions=("risk.treatment_is_accept",),
            roles=("risk_owner",),
            requires=("treatment", "acceptance_rationale"),
            guards=("risk.acceptance_justified",),
            effects=("risk.record_acceptance", _RATE),
            description="Accepting a risk is the risk owner's decision.",
        ),
        TransitionSpec(
            "plan_treatment",
            ("assessed",),
            "treatment_planned",
            conditions=("risk.treatment_is_not_accept",),
            requires=("treatment", "treatment_plan"),
            guards=("risk.plan_described",),
            effects=("risk.clear_acceptance", _RATE),
        ),
        TransitionSpec(
            "treat", ("treatment_planned",), "treated", guards=(_PLANNED,), effects=(_RATE,)
        ),
        TransitionSpec(
            "monitor",
            ("treated",),
            "monitoring",
            requires=("next_review_at",),
            guards=(_PLANNED, "risk.next_review_after_now"),
            effects=(_RATE,),
        ),
        TransitionSpec(
            "review",
            ("monitoring",),
            "=",
            requires=("next_review_at",),
            guards=(_PLANNED, "risk.next_review_after_now"),
            effects=("risk.stamp_review", _RATE),
        ),
        TransitionSpec(
            "reassess",
            ("monitoring",),
            "assessed",
            requires=("reason",),
            guards=(_PLANNED, "common.has_reason"),
            effects=(_RATE,),
        ),
        TransitionSpec(
            "close",
            ("monitoring",),
            "closed",
            requires=("reason",),
            guards=(_PLANNED, "common.has_reason"),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_PLANNED,), effects=(_RATE,)),
    ),
    timers=(TimerSpec("review_due", "monitoring", at_field="next_review_at"),),
)
