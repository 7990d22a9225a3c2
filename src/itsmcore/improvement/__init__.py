"""Continual improvement: statistical process control, KPIs, the PDCA loop and reports.

``spc`` is exported as a module (``spc.xmr``, ``spc.p_chart``, ``spc.compare``) and its
main types are re-exported here; so are ``kpis`` (``kpis.compute``, ``kpis.names``) and
``pdca`` (measuring an improvement cycle), with their main types, and ``mining``
(``mining.process_map``: process mining over event histories) with ``ProcessMap``, and
``report`` (the standard service reports) with ``Report``.
"""

from __future__ import annotations

from itsmcore.improvement import kpis, mining, pdca, report, spc
from itsmcore.improvement.kpis import History, KpiValue
from itsmcore.improvement.mining import ProcessMap, process_map
from itsmcore.improvement.pdca import Cycle, Measurement
from itsmcore.improvement.report import Report
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
    "ProcessMap",
    "Report",
    "ShiftVerdict",
    "Signal",
    "XmRChart",
    "kpis",
    "mining",
    "pdca",
    "process_map",
    "report",
    "spc",
    "western_electric",
]
