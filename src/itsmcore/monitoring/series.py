"""The stored state of one threshold-rule series, as a tiny process.

Why a record: ``Engine.sample`` must let several workers agree on whether a series is
``pending`` and since when. The storage port's only compare-and-set is the record
version, so each series that ever breached is a record of process
``threshold_series`` with a deterministic id (:func:`series_record_id`). Its state is
the series' status and its ``updated_at`` the instant of the last change (the
``since`` of :class:`~itsmcore.monitoring.rules.SeriesState`). A sample that changes
nothing writes nothing; a change is one version-checked save, so two workers racing on
one series serialise and the loser re-evaluates against the winner's state.

Each status change is an audited event (``breach``, ``fire``, ``clear``) by the
system actor, with the usual ``event`` notification in the outbox.
"""

from __future__ import annotations

import hashlib
from typing import Final

from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["SERIES_EVENTS", "SERIES_SPEC", "series_record_id"]

SERIES_SPEC: Final = ProcessSpec(
    name="threshold_series",
    version=1,
    title="Threshold series",
    id_prefix="MON",
    description="The state of one threshold rule on one label set (kept by Engine.sample).",
    states=(
        StateSpec("ok", "active", initial=True, description="Not past the threshold."),
        StateSpec("pending", "active", description="Past the threshold, not yet long enough."),
        StateSpec("firing", "active", description="Past the threshold for the rule's 'for'."),
        StateSpec("retired", "closed", terminal=True, description="The rule was withdrawn."),
    ),
    fields=(
        FieldSpec("rule", "str", required=True, description="The threshold rule's name."),
        FieldSpec("series", "str", required=True, description="The series key."),
    ),
    opening=TransitionSpec("open", (), "ok"),
    transitions=(
        TransitionSpec("breach", ("ok",), "pending"),
        TransitionSpec("fire", ("ok", "pending"), "firing"),
        TransitionSpec("clear", ("pending", "firing"), "ok"),
        TransitionSpec("retire", ("*",), "retired", description="Housekeeping by the host."),
    ),
)

#: The event that moves a series from one status to another.
SERIES_EVENTS: Final = {
    ("ok", "pending"): "breach",
    ("ok", "firing"): "fire",
    ("pending", "firing"): "fire",
    ("pending", "ok"): "clear",
    ("firing", "ok"): "clear",
}


def series_record_id(key: str) -> str:
    """The record id of the series ``key``: ``MON-`` and 16 hex digits of its SHA-256."""
    return "MON-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
