"""The audit process: an internal or third-party audit engagement.

ISO/IEC 20000-1 clause 9.2 (internal audit: planned programme, defined criteria and
scope, objective and impartial auditors, results reported, corrections without undue
delay); the seed's R6.2-03 (third-party audit or internal review), R6.3-01 (periodic
security audit), R6.3-02 (the scope checklist) and R6.3-05 (criteria: law, industry
standard, internal policy). States and rules:

- ``planned`` → ``fieldwork`` (``start_fieldwork``, requires ``lead_auditor``) →
  ``reporting`` (``draft_report``, requires ``report``) → ``remediation``
  (``issue_report`` when ``finding_count`` > 0) → ``closed`` (``close``, requires
  ``closure_notes``); ``issue_report`` with no findings closes the audit directly;
- ``open`` requires ``title``, ``auditor_type`` (internal / third_party), ``scope`` and
  ``criteria`` (what the audit checks against: obligation ids, standards, policies);
  ``checklist`` defaults to the seed's four areas (:data:`DEFAULT_CHECKLIST`, or
  ``options["default_checklist"]``);
- impartiality: the lead auditor may not be the ``auditee`` (the owner of what is
  audited), and an internal audit's lead auditor may not be the one who planned it
  unless ``options["planner_may_lead"]`` is true (guard ``audit.impartial``);
- ``issue_report`` stamps ``report_issued_at``; scope and criteria are fixed once
  fieldwork starts (``update`` may not change them);
- ``cancel`` (requires ``reason``) before the report is issued;
- the ``fieldwork_overdue`` timer signals when ``planned_end`` passes during fieldwork.

Findings are :mod:`~itsmcore.processes.audit_finding` records whose ``audit`` field
names this audit; close the audit once they are closed
(``engine.find(process="audit_finding", audit=audit_id)``). Schedule audits with a
:class:`~itsmcore.cadence.Cadence` (an audit programme is a recurring template).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["AUDITOR_TYPES", "CONCLUSIONS", "DEFAULT_CHECKLIST", "SPEC"]

AUDITOR_TYPES: Final = ("internal", "third_party")

#: The seed's audit scope checklist (R6.3-02); hosts extend it per audit or by option.
DEFAULT_CHECKLIST: Final = (
    "access_control",
    "data_encryption",
    "security_event_logging",
    "audit_log_integrity",
)

#: The audit's overall conclusion.
CONCLUSIONS: Final = ("conforming", "minor_nonconformities", "major_nonconformities")

_FIXED_AFTER_PLANNING: Final = ("scope", "criteria", "auditor_type")


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@BUILTINS.effect("audit.default_checklist")
def _default_checklist(ctx: Context) -> Mapping[str, Any] | None:
    """An audit opened without a checklist gets the default one."""
    if ctx.value("checklist") is not None:
        return None
    return {"checklist": tuple(ctx.options.get("default_checklist", DEFAULT_CHECKLIST))}


@BUILTINS.guard("audit.scoped")
def _scoped(ctx: Context) -> str | None:
    """An audit states its scope in words and names at least one criterion."""
    if _blank(ctx.value("scope")):
        return "describe the audit 'scope' (non-blank text)"
    if not ctx.value("criteria"):
        return "name at least one audit criterion (an obligation id, standard or policy)"
    return None


@BUILTINS.guard("audit.impartial")
def _impartial(ctx: Context) -> str | None:
    """Auditors do not audit their own work (ISO/IEC 20000-1 9.2)."""
    lead = ctx.value("lead_auditor")
    if lead is not None and lead == ctx.value("auditee"):
        return f"the lead auditor {lead!r} owns the audited area; choose an impartial auditor"
    record = ctx.record
    if (
        record is not None
        and lead is not None
        and ctx.value("auditor_type") == "internal"
        and lead == record.opened_by
        and not ctx.options.get("planner_may_lead", False)
    ):
        return (
            f"{lead!r} planned this internal audit and may not lead it "
            "(set options['planner_may_lead'] to allow it)"
        )
    return None


@BUILTINS.guard("audit.has_findings")
def _has_findings(ctx: Context) -> str | None:
    """Condition: the report raised findings to remediate."""
    count = ctx.value("finding_count")
    return None if isinstance(count, int) and count > 0 else "the audit raised no findings"


@BUILTINS.guard("audit.no_findings")
def _no_findings(ctx: Context) -> str | None:
    """Condition: the report raised no findings (or did not say yet)."""
    count = ctx.value("finding_count")
    return "the audit raised findings" if isinstance(count, int) and count > 0 else None


@BUILTINS.effect("audit.stamp_report")
def _stamp_report(ctx: Context) -> Mapping[str, Any]:
    return {"report_issued_at": ctx.at}


@BUILTINS.guard("audit.report_written")
def _report_written(ctx: Context) -> str | None:
    if _blank(ctx.value("report")):
        return "write the audit 'report' (non-blank text)"
    return None


@BUILTINS.guard("audit.scope_fixed")
def _scope_fixed(ctx: Context) -> str | None:
    """Scope, criteria and auditor type are settled before fieldwork starts."""
    record = ctx.record
    if record is None or record.state == "planned":
        return None
    changed = [
        n for n in _FIXED_AFTER_PLANNING if n in ctx.changes and ctx.changes[n] != record.get(n)
    ]
    if changed:
        return f"{', '.join(changed)} are fixed once fieldwork has started"
    return None


@BUILTINS.guard("audit.window_valid")
def _window_valid(ctx: Context) -> str | None:
    start, end = ctx.value("planned_start"), ctx.value("planned_end")
    if start is not None and end is not None and end <= start:
        return "'planned_end' must be after 'planned_start'"
    return None


#: What every event after planning keeps: the settled scope and an impartial lead.
_HELD: Final = ("audit.scope_fixed", "audit.impartial")

SPEC: Final = ProcessSpec(
    name="audit",
    version=1,
    title="Audit",
    id_prefix="AUD",
    description="Check objectively that services and controls meet their criteria.",
    states=(
        StateSpec("planned", "open", initial=True, description="Scope and criteria set."),
        StateSpec("fieldwork", "open", description="Evidence being gathered."),
        StateSpec("reporting", "open", description="The report is being written."),
        StateSpec("remediation", "resolved", description="Findings being corrected."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("auditor_type", "enum", required=True, choices=AUDITOR_TYPES),
        FieldSpec("scope", "text", required=True),
        FieldSpec("criteria", "list", required=True, description="Obligations, standards."),
        FieldSpec("checklist", "list", description="Areas checked (R6.3-02)."),
        FieldSpec("auditee", "str", description="Who owns the audited area."),
        FieldSpec("lead_auditor", "str"),
        FieldSpec("audit_firm", "str", description="For third-party audits."),
        FieldSpec("service", "ref"),
        FieldSpec("planned_start", "datetime"),
        FieldSpec("planned_end", "datetime"),
        FieldSpec("report", "text"),
        FieldSpec("conclusion", "enum", choices=CONCLUSIONS),
        FieldSpec("finding_count", "int", minimum=0),
        FieldSpec("report_issued_at", "datetime", derived=True),
        FieldSpec("evidence", "list", description="References to evidence (chain checks…)."),
        FieldSpec("closure_notes", "text"),
        FieldSpec("cadence", "str", description="The audit programme that scheduled it."),
        FieldSpec("scheduled_for", "datetime"),
        FieldSpec("reason", "text"),
    ),
    opening=TransitionSpec(
        "open",
        (),
        "planned",
        guards=("audit.scoped", "audit.window_valid"),
        effects=("audit.default_checklist",),
    ),
    transitions=(
        TransitionSpec(
            "start_fieldwork",
            ("planned",),
            "fieldwork",
            requires=("lead_auditor",),
            guards=("audit.scoped", "audit.impartial", "audit.window_valid"),
        ),
        TransitionSpec(
            "draft_report",
            ("fieldwork",),
            "reporting",
            requires=("report",),
            guards=(*_HELD, "audit.report_written"),
        ),
        TransitionSpec(
            "issue_report",
            ("reporting",),
            "remediation",
            conditions=("audit.has_findings",),
            requires=("conclusion", "finding_count"),
            guards=(*_HELD, "audit.report_written"),
            effects=("audit.stamp_report",),
            description="Findings go to remediation.",
        ),
        TransitionSpec(
            "issue_report",
            ("reporting",),
            "closed",
            conditions=("audit.no_findings",),
            requires=("conclusion", "finding_count"),
            guards=(*_HELD, "audit.report_written"),
            effects=("audit.stamp_report",),
            description="An audit without findings is done once reported.",
        ),
        TransitionSpec(
            "close", ("remediation",), "closed", requires=("closure_notes",), guards=_HELD
        ),
        TransitionSpec(
            "cancel",
            ("planned", "fieldwork", "reporting"),
            "cancelled",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "update",
            ("*",),
            "=",
            guards=("audit.scope_fixed", "audit.scoped", "audit.impartial", "audit.window_valid"),
        ),
    ),
    timers=(TimerSpec("fieldwork_overdue", "fieldwork", at_field="planned_end"),),
)
