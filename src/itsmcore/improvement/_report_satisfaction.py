"""The customer-satisfaction report (R4.5-01, R4.5-03): CSAT, NPS, responses, the
score distribution, follow-ups, the trend and a p-chart. See ``docs/reports.md``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from itsmcore.improvement import spc
from itsmcore.improvement._report_parts import (
    fields_until,
    first_event,
    formatted,
    in_period,
    label_of,
    trend_periods,
    week_periods,
)
from itsmcore.improvement.kpis import History
from itsmcore.improvement.report import Chart, Report, Section, Series, Table
from itsmcore.improvement.sources import HistoryLog, compute_kpi
from itsmcore.sla.availability import Period

__all__ = ["customer_satisfaction"]


def customer_satisfaction(
    log: HistoryLog,
    period: Period,
    *,
    service: str | None = None,
    months: int = 6,
    weeks: int = 26,
    csat_target: float | None = None,
) -> Report:
    """Customer satisfaction over ``period`` from ``log`` (options as in ``Report``)."""
    only = {"service": service} if service else {}
    end = period.end
    surveys = [
        h
        for h in log.histories(processes=["feedback"], until=end)
        if all(fields_until(h, end).get(k) == v for k, v in only.items())
    ]
    sent = [h for h in surveys if in_period(h.events[0].at, period)]
    answered = [h for h in sent if first_event(h, "respond", end) is not None]
    responses = _responses(surveys, period)
    csat = compute_kpi(log, "csat", period=period, **only)
    nps = compute_kpi(log, "nps", period=period, **only)
    trend = trend_periods(period, months)
    before = compute_kpi(log, "csat", period=trend[-2], **only)
    low = [f for f in responses if f.get("follow_up_required")]
    rate = f"{len(answered) / len(sent) * 100:.1f} %" if sent else "no data"
    summary = Table(
        ("Figure", "Value"),
        (
            ("Surveys sent in the period", str(len(sent))),
            ("... of them answered by the period's end", f"{len(answered)} ({rate})"),
            ("Responses in the period", str(len(responses))),
            ("CSAT (share of scores 4–5)", formatted(csat)),
            ("CSAT, previous period", formatted(before)),
            ("Net Promoter Score", formatted(nps)),
            ("Low scores needing a follow-up", str(len(low))),
            ("... of them followed up by the period's end", str(_count(low, "follow_up"))),
            ("Responses with a comment", str(_count(responses, "comment"))),
        ),
    )  # fmt: skip
    scores = Counter(int(f["csat"]) for f in responses if isinstance(f.get("csat"), int))
    total = sum(scores.values())
    distribution = Table(
        ("CSAT score", "Responses", "Share"),
        tuple(
            (
                str(s),
                str(scores.get(s, 0)),
                f"{scores.get(s, 0) / total * 100:.1f} %" if total else "–",
            )
            for s in range(1, 6)
        ),
    )
    labels = tuple(label_of(p) for p in trend)
    bars = Chart(
        "bars",
        "CSAT score distribution, this period",
        tuple(str(s) for s in range(1, 6)),
        (Series("responses", tuple(float(scores.get(s, 0)) for s in range(1, 6))),),
        unit="count",
    )
    monthly = tuple(
        None if (v := compute_kpi(log, "csat", period=p, **only).value) is None else float(v) * 100  # type: ignore[arg-type]
        for p in trend
    )
    line = Chart(
        "trend",
        "CSAT, monthly",
        labels,
        (Series("CSAT", monthly),),
        unit="%",
        target=None if csat_target is None else csat_target * 100,
    )
    charts: list[Chart] = [bars, line]
    paragraphs: list[str] = []
    weekly = [(w, _responses(surveys, w)) for w in week_periods(period, weeks)]
    weekly = [(w, r) for w, r in weekly if r]
    if len(weekly) >= 2:
        unhappy = [sum(1 for f in r if f.get("csat", 5) <= 3) for _, r in weekly]
        chart = spc.p_chart(unhappy, [len(r) for _, r in weekly])
        signals = "; ".join(s.description for s in chart.signals[:3]) or "No signals"
        charts.append(
            Chart(
                "p",
                "Weekly share of dissatisfied responses, scores 1–3 (p-chart)",
                tuple(label_of(w, weekly=True) for w, _ in weekly),
                unit="share",
                control=chart,
                note=(
                    f"Centre {chart.center:.3f}; limits vary with each week's number of "
                    f"responses. {signals}."
                ),
            )
        )
    else:
        paragraphs.append("Fewer than 2 weeks with responses: no p-chart.")
    sections = (
        Section("Summary", (), (summary,)),
        Section("Scores", (), (distribution,)),
        Section("Trends and variation", tuple(paragraphs), (), tuple(charts)),
    )
    title = f"Customer satisfaction report{f' — {service}' if service else ''}, {label_of(period)}"
    return Report("customer_satisfaction", title, period, sections)


def _count(items: Sequence[Mapping[str, Any]], key: str) -> int:
    return sum(1 for f in items if f.get(key))


def _responses(surveys: Sequence[History], period: Period) -> list[dict[str, Any]]:
    """The fields (as of the period's end) of surveys answered in ``period``."""
    out = []
    for h in surveys:
        respond = first_event(h, "respond", period.end)
        if respond is not None and in_period(respond.at, period):
            out.append(fields_until(h, period.end))
    return out
