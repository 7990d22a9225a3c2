"""The governance processes under the kernel's laws (hypothesis state machines).

Risk, audit, audit finding, compliance obligation, feedback, training enrollment,
certification and scheduled activity: ``process_state_machine`` opens records, fires
allowed, disallowed, back-dated and naive-dated events, links records and checks replay,
the hash chain, terminal states and "a refused event changes nothing" after every step.
The field overrides satisfy the guards often enough that the later states are reached:
dates after the event's time (a review, a renewal), non-blank texts, a verifier who is
not the implementer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import itsmcore as ic
from itsmcore.testing.stateful import process_state_machine

SETTINGS = settings(max_examples=100, stateful_step_count=10, deadline=None)

_text = st.sampled_from(("agreed", "see the evidence log", "done and checked"))


def _fixed(**values: Any) -> SearchStrategy[Mapping[str, Any]]:
    return st.fixed_dictionaries(
        {k: v if isinstance(v, SearchStrategy) else st.just(v) for k, v in values.items()}
    )


def _later(field: str) -> Any:
    """``field`` = an instant beyond the next event (time gaps are at most 30 days)."""

    def fields(record: ic.Record | None) -> SearchStrategy[Mapping[str, Any]]:
        assert record is not None
        days = st.integers(31, 800).map(lambda d: timedelta(days=d))
        return _fixed(**{field: days.map(lambda d: record.updated_at + d)})

    return fields


def _kept(*names: str, **extra: Any) -> Any:
    """The record's own values of ``names`` (so generated fields do not change what only
    one event may change), plus ``extra``."""

    def fields(record: ic.Record | None) -> SearchStrategy[Mapping[str, Any]]:
        if record is None:
            return _fixed(**dict.fromkeys(names), **extra)
        return _fixed(**{n: record.get(n) for n in names}, **extra)

    return fields


TestRisk = process_state_machine(
    ic.catalog.get("risk"),
    field_overrides={
        "plan_treatment": _fixed(
            treatment=st.sampled_from(("mitigate", "accept", "transfer", "avoid")),
            treatment_plan=_text,
            acceptance_rationale=_text,
        ),
        "monitor": _later("next_review_at"),
        "review": _later("next_review_at"),
        "reassess": _fixed(reason=_text),
        "close": _fixed(reason=_text),
    },
).TestCase
TestRisk.settings = SETTINGS

TestAudit = process_state_machine(
    ic.catalog.get("audit"),
    field_overrides={
        "open": _fixed(scope=_text, criteria=("ISO/IEC 27001",), auditee="auditee"),
        "draft_report": _fixed(report=_text),
        "issue_report": _fixed(report=_text),
        "cancel": _fixed(reason=_text),
    },
).TestCase
TestAudit.settings = SETTINGS

TestAuditFinding = process_state_machine(
    ic.catalog.get("audit_finding"),
    field_overrides={
        "plan_action": _fixed(owner="olly", corrective_action=_text),
        "implement": _fixed(implementation_notes=_text),
        "verify": _fixed(verification_notes=_text),
        "reject": _fixed(verification_notes=_text),
        "withdraw": _fixed(reason=_text),
    },
).TestCase
TestAuditFinding.settings = SETTINGS

_REVISION = _fixed(
    revision_summary=_text,
    impact_assessment=_text,
    affected_specs=st.sampled_from(((), ("change@1",))),
    affected_controls=st.sampled_from((("CTL-000001",), ())),
)
TestComplianceObligation = process_state_machine(
    ic.catalog.get("compliance_obligation"),
    field_overrides={
        "assess": _fixed(applicability=_text, owner="olga"),
        "implement": _fixed(controls=("CTL-000001",)),
        "monitor": _later("next_review_at"),
        "review": _later("next_review_at"),
        "revise": _REVISION,
        "retire": _fixed(reason=_text),
        "update": _kept("source_version"),
    },
).TestCase
TestComplianceObligation.settings = SETTINGS

_SCORES = ("csat", "nps")
TestFeedback = process_state_machine(
    ic.catalog.get("feedback"),
    field_overrides={
        "open": _kept(*_SCORES),
        "analyse": _kept(*_SCORES, analysis=_text),
        "record_action": _kept(*_SCORES, action_taken=_text),
        "record_follow_up": _kept(*_SCORES),
        "close": _kept(*_SCORES),
        "update": _kept(*_SCORES),
    },
).TestCase
TestFeedback.settings = SETTINGS

_OUTCOME = ("result", "score", "certification")
TestTrainingEnrollment = process_state_machine(
    ic.catalog.get("training_enrollment"),
    field_overrides={
        "open": _kept(*_OUTCOME, person="trainee"),
        "enroll": _kept(*_OUTCOME),
        "attend": _kept(*_OUTCOME),
        "assess": _kept("certification"),
        "certify": _kept("result", "score"),
        "retake": _kept(*_OUTCOME),
        "complete": _kept(*_OUTCOME),
        "cancel": _kept(*_OUTCOME, reason=_text),
        "update": _kept(*_OUTCOME),
    },
).TestCase
TestTrainingEnrollment.settings = SETTINGS

_ISSUED = datetime(2019, 1, 1, tzinfo=UTC)
TestCertification = process_state_machine(
    ic.catalog.get("certification"),
    field_overrides={
        "open": _fixed(
            issued_at=_ISSUED,
            expires_at=st.integers(1, 20 * 365).map(lambda d: _ISSUED + timedelta(days=d)),
        ),
        "renew": _later("expires_at"),
        "revoke": _fixed(reason=_text),
        "update": _kept("expires_at"),
    },
).TestCase
TestCertification.settings = SETTINGS

TestScheduledActivity = process_state_machine(
    ic.catalog.get("scheduled_activity"),
    field_overrides={
        "open": _kept("follow_up"),
        "start": _kept("follow_up", change="CHG-000001"),
        "complete": _kept(
            "follow_up",
            outcome=st.sampled_from(("ok", "findings")),
            measured_recovery=timedelta(hours=1),
            effectiveness="effective",
        ),
        "skip": _kept("follow_up", reason=_text),
        "update": _kept("follow_up"),
    },
).TestCase
TestScheduledActivity.settings = SETTINGS
