"""Continual improvement: statistical process control, KPIs, the PDCA loop and reports.

``spc`` is exported as a module (``spc.xmr``, ``spc.p_chart``, ``spc.compare``) and its
main types are re-exported here.
"""

from __future__ import annotations

from itsmcore.improvement import spc
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
    "PChart",
    "ShiftVerdict",
    "Signal",
    "XmRChart",
    "spc",
    "western_electric",
]
