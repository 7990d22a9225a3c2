"""The certification process: a person's certified competency, with expiry and renewal.

ISO/IEC 20000-1 clause 7.2 (competence, with documented evidence); the seed's R5.4-05
(certifications expire, ``tick`` signals expiring and expired ones, and an optional
assignment guard requires a valid certification). States and rules:

- ``valid`` → ``expired`` (``expire``, fired by the ``expire`` timer at ``expires_at``;
  refused before that instant and for a certification without expiry) → ``valid`` again
  (``renew``, requires a new ``expires_at`` after the renewal); ``revoke`` (requires
  ``reason``) ends it for good;
- ``open`` requires ``title``, ``person``, ``competency`` and ``issued_at``; an
  ``expires_at`` must lie after ``issued_at``;
- **renewal signal before expiry**: a :class:`~itsmcore.spec.TimerSpec` fires at a
  field's instant, not "some time before" it, so the derived ``renewal_due`` =
  ``expires_at`` − ``options["renewal_lead"]`` (default 30 days, a convention: the seed
  gives no period) is kept on the record and the ``renewal_due`` timer signals at it;
- ``expires_at`` changes only by ``renew``; ``update`` edits descriptive fields.

**Assignment guard.** A pure guard cannot query other records, so the certified
people are host data: ``certification.required_for_assignment`` (add it to the
``assign`` transition of an incident or request spec variant) reads
``options["certified_assignees"]``, a mapping from a category (the value of the
record's ``options["certification_field"]``, default ``category``; ``"*"`` for every
category) to the ids of people certified for it. Build that mapping from the stored
certifications with :func:`certified_people` and refresh the spec's options when it
changes (e.g. on a certification's ``expire`` or ``renewal_due`` notification).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from itsmcore._time import parse_duration, require_aware
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.records import Record
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["DEFAULT_RENEWAL_LEAD", "SPEC", "certified_people"]

#: How long before expiry the renewal signal fires, unless ``options["renewal_lead"]``.
DEFAULT_RENEWAL_LEAD: Final = timedelta(days=30)


def _lead(options: Mapping[str, Any]) -> timedelta:
    value = options.get("renewal_lead")
    return DEFAULT_RENEWAL_LEAD if value is None else parse_duration(value, "$.renewal_lead")


@BUILTINS.effect("certification.renewal_due")
def _renewal_due(ctx: Context) -> Mapping[str, Any] | None:
    """Keep ``renewal_due`` = ``expires_at`` − the renewal lead (cleared without expiry)."""
    expires = ctx.value("expires_at")
    if expires is None:
        return None if ctx.record is None else {"renewal_due": None}
    return {"renewal_due": expires - _lead(ctx.options)}


@BUILTINS.guard("certification.expiry_after_issue")
def _expiry_after_issue(ctx: Context) -> str | None:
    issued, expires = ctx.value("issued_at"), ctx.value("expires_at")
    if issued is not None and expires is not None and expires <= issued:
        return "'expires_at' must be after 'issued_at'"
    return None


@BUILTINS.guard("certification.expiry_reached")
def _expiry_reached(ctx: Context) -> str | None:
    """A certification expires at its ``expires_at``, not before (revoke it instead)."""
    expires = ctx.value("expires_at")
    if expires is None:
        return "this certification has no 'expires_at' and never expires; revoke it instead"
    if ctx.at < expires:
        return f"it is valid until {expires.isoformat()}; to end it earlier, revoke it"
    return None


@BUILTINS.guard("certification.renewed_into_future")
def _renewed_into_future(ctx: Context) -> str | None:
    expires = ctx.changes.get("expires_at")
    if expires is None or expires <= ctx.at:
        return "give a new 'expires_at' after the time of the renewal"
    return None


@BUILTINS.effect("certification.stamp_renewal")
def _stamp_renewal(ctx: Context) -> Mapping[str, Any]:
    assert ctx.record is not None
    return {"renewed_at": ctx.at, "renewal_count": ctx.record.get("renewal_count", 0) + 1}


@BUILTINS.guard("certification.expiry_via_renew")
def _expiry_via_renew(ctx: Context) -> str | None:
    record = ctx.record
    before = None if record is None else record.get("expires_at")
    if record is not None and ctx.changes.get("expires_at", before) != before:
        return "'expires_at' changes only by 'renew'"
    return None


@BUILTINS.guard("certification.required_for_assignment")
def _required_for_assignment(ctx: Context) -> str | None:
    """The assignee this event sets holds a valid certification for the record's
    category (host data in ``options["certified_assignees"]``, see the module docs)."""
    assignee = ctx.changes.get("assignee")
    if assignee is None:
        return None
    table = ctx.options.get("certified_assignees")
    if table is None:
        return (
            "this spec requires certified assignees but options['certified_assignees'] is "
            "not set; build it with itsmcore.processes.certification.certified_people"
        )
    category = ctx.value(ctx.options.get("certification_field", "category"))
    allowed = table.get(category) if category in table else table.get("*")
    if allowed is None or assignee in allowed:
        return None
    return (
        f"{assignee!r} holds no valid certification for {category or 'this work'!r}; "
        f"certified: {', '.join(sorted(allowed)) or 'nobody'}"
    )


SPEC: Final = ProcessSpec(
    name="certification",
    version=1,
    title="Certification",
    id_prefix="CRT",
    description="A person's certified competency, valid until it expires or is revoked.",
    states=(
        StateSpec("valid", "active", initial=True, description="In force."),
        StateSpec("expired", "closed", description="Past its expiry; may be renewed."),
        StateSpec("revoked", "cancelled", terminal=True, description="Withdrawn for good."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("person", "str", required=True),
        FieldSpec("competency", "str", required=True),
        FieldSpec("issuer", "str"),
        FieldSpec("issued_at", "datetime", required=True),
        FieldSpec("expires_at", "datetime", description="None: does not expire."),
        FieldSpec("renewal_due", "datetime", derived=True, description="expires_at − lead"),
        FieldSpec("renewed_at", "datetime", derived=True),
        FieldSpec("renewal_count", "int", derived=True),
        FieldSpec("categories", "list", description="Work it qualifies for (assignment)."),
        FieldSpec("services", "list"),
        FieldSpec("enrollment", "ref", description="The training that led to it."),
        FieldSpec("reason", "text"),
    ),
    opening=TransitionSpec(
        "open",
        (),
        "valid",
        guards=("certification.expiry_after_issue",),
        effects=("certification.renewal_due",),
    ),
    transitions=(
        TransitionSpec(
            "expire",
            ("valid",),
            "expired",
            guards=("certification.expiry_via_renew", "certification.expiry_reached"),
        ),
        TransitionSpec(
            "renew",
            ("valid", "expired"),
            "valid",
            requires=("expires_at",),
            guards=("certification.renewed_into_future", "certification.expiry_after_issue"),
            effects=("certification.stamp_renewal", "certification.renewal_due"),
        ),
        TransitionSpec(
            "revoke", ("*",), "revoked", requires=("reason",), guards=("common.has_reason",)
        ),
        TransitionSpec(
            "update",
            ("*",),
            "=",
            guards=("certification.expiry_via_renew", "certification.expiry_after_issue"),
        ),
    ),
    timers=(
        TimerSpec("renewal_due", "valid", at_field="renewal_due"),
        TimerSpec("expire", "valid", event="expire", at_field="expires_at"),
    ),
)


def certified_people(certifications: Iterable[Record], at: datetime) -> dict[str, tuple[str, ...]]:
    """Category → ids of people holding a certification valid at ``at``.

    ``certifications`` are ``certification`` records (others are ignored), e.g.
    ``engine.find(process="certification", state="valid")``. One is valid at ``at`` when
    it is in state ``valid``, was issued at or before ``at`` and expires after ``at`` (or
    never). Each category in its ``categories`` list counts it. A naive ``at`` is a
    ``ValidationError``.
    """
    require_aware(at, "$.at")
    found: dict[str, set[str]] = {}
    for rec in certifications:
        if rec.process != "certification" or rec.state != "valid":
            continue
        issued, expires = rec.get("issued_at"), rec.get("expires_at")
        if issued > at or (expires is not None and expires <= at):
            continue
        for category in rec.get("categories", ()):
            found.setdefault(category, set()).add(rec.get("person"))
    return {category: tuple(sorted(people)) for category, people in sorted(found.items())}
