"""Continual improvement: statistical process control, KPIs, the PDCA loop and reports.

``spc`` is exported as a module (``spc.xmr``, ``spc.p_chart``, ``spc.compare``) and its
main types are re-exported here; so are ``kpis`` (``kpis.compute``, ``kpis.names``) and
``pdca`` (measuring an improvement cycle), with their main types.
"""

from __future__ import annotations

from itsmcore.improvement import kpis, pdca, spc
from itsmcore.improvement.kpis import History, KpiValue
from itsmcore.improvement.pdca import Cycle, Measurement
from itsmcore.improvement.sources import HistoryLog, HistorySource
from itsmcore.improvement.spc import (
    ControlChart,
    PChart,
    ShiftVerdict,
    Signal,
    XmRChart,
    western_electric,
)

__all__ = [
    "ControlChart",
    "Cycle",
    "History",
    "HistoryLog",
    "HistorySource",
    "KpiValue",
    "Measurement",
    "PChart",
    "ShiftVerdict",
    "Signal",
    "XmRChart",
    "kpis",
    "pdca",
    "spc",
    "western_electric",
]
