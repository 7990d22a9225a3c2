"""A month in a small IT department, simulated through the public API (``itsmcore demo``).

Why: a new user should see the whole library work on a real store in one command, and
a maintainer gets an end-to-end run of every layer: processes, links, SLA clocks and
timers under :meth:`~itsmcore.Engine.tick`, the outbox, KPIs, one measured PDCA cycle,
the service report and the audit chain.

The story (times in UTC, fractions of the simulated span):

- incidents arrive through the seed's intake channels (phone, email, chat,
  self-service; monitoring raises a major mail outage at 0.6); agents acknowledge,
  sometimes reassign, wait for callers, resolve, occasionally reopen; callers confirm or
  the ``auto_close`` timer closes them; some callers answer a satisfaction survey, and a
  low score opens a follow-up incident;
- a recurring mail fault (0.10, 0.17, 0.23) becomes a problem, a published known error
  and a normal change through the CAB that fixes it;
- standard changes from a pre-approved template each week; a phishing security incident
  (0.4) with an emergency change; an ERP release (0.5) shipping two normal changes;
- an improvement initiative (0.5) measures the baseline of mean time to acknowledge,
  introduces a triage rota (the simulated agents answer faster from then on) and checks
  the effect an hour before the end.

Deterministic: the same ``seed``, ``days`` and ``start`` give the same records and
events, hash for hash. Only the public API is used, so this file is also an example.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Generator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import attrs

import itsmcore as ic
from itsmcore.improvement.kpis import KpiValue
from itsmcore.improvement.report import KINDS, Report
from itsmcore.improvement.sources import HistorySource, loaded
from itsmcore.ports import hookimpl
from itsmcore.processes.change import configured as configured_change
from itsmcore.processes.release import TEST_LEVELS
from itsmcore.sla import Period, SlaSignal, TimerSignal

__all__ = ["DEFAULT_START", "DemoResult", "run_demo", "service_report"]

#: The demo's default first instant: the month the report example names (2026-11).
DEFAULT_START: Final = datetime(2026, 11, 1, tzinfo=UTC)
_STANDARD_TEMPLATE: Final = "workstation-patch"
_CHANNELS: Final = (("email", 35), ("phone", 30), ("self_service", 20), ("chat", 15))
_SERVICES: Final = (("mail", 30), ("vpn", 20), ("erp", 20), ("network", 15), ("workplace", 15))
_CALLERS: Final = tuple(f"user{n:02d}" for n in range(1, 41))
_AGENTS: Final = ("dora", "sam", "li")
_PRIORITY_WORK_HOURS: Final = {1: (1, 5), 2: (2, 10), 3: (4, 60), 4: (8, 90), 5: (24, 150)}
_KPIS: Final[tuple[tuple[str, Mapping[str, str]], ...]] = (
    ("mtta", {}),
    ("mttr", {}),
    ("fcr", {}),
    ("reopen_rate", {}),
    ("sla_compliance", {}),
    ("backlog", {}),
    ("change_success_rate", {}),
    ("emergency_change_rate", {}),
    ("csat", {}),
    ("nps", {}),
    ("availability", {"service": "mail"}),
)


@attrs.frozen
class DemoResult:
    """What :func:`run_demo` did: the store, the counts, the KPIs over the simulated
    period, the SLA signals, the PDCA outcome, the chain check and the report file."""

    db: Path
    seed: int
    period: Period
    records: Mapping[str, int]
    change_types: Mapping[str, int]
    kpis: tuple[KpiValue, ...]
    sla_signals: Mapping[str, int]
    timers_fired: int
    notifications: Mapping[str, int]
    improvement: ic.Record | None
    chain: ic.ChainReport
    report: Path | None


class _Outbox:
    """A notification plugin: counts what the outbox delivers, by kind."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()

    @hookimpl
    def itsmcore_notify(self, notification: ic.Notification) -> None:
        self.kinds[notification.kind] += 1


_Story = Generator[datetime, None, None]


class _Month:
    """The simulation: stories are generators that act at ``self.now`` and yield the
    instant they next want to act; the earliest waiting story runs next."""

    def __init__(self, engine: ic.Engine, seed: int, start: datetime, days: int) -> None:
        self.engine = engine
        self.rng = random.Random(seed)
        self.start = start
        self.end = start + timedelta(days=days)
        self.days = days
        self.now = start
        self.improved = False  # the PDCA's triage rota is in effect
        self.first_breached: str | None = None
        self.signals: Counter[str] = Counter()
        self.timers = 0
        self._queue: list[tuple[datetime, int, _Story]] = []
        self._seq = 0
        desk = frozenset({"agent"})
        self.agents = {name: ic.Actor(name, roles=desk) for name in _AGENTS}
        self.pat = ic.Actor("pat", roles=frozenset({"problem_manager"}))
        self.cab = (
            ic.Actor("bob", roles=frozenset({"cab_member"})),
            ic.Actor("carol", roles=frozenset({"cab_member"})),
        )
        self.chris = ic.Actor("chris", roles=frozenset({"change_manager"}))
        self.max = ic.Actor("max", roles=frozenset({"release_manager"}))
        self.hal = ic.Actor("hal", roles=frozenset({"security_analyst"}))
        self.otto = ic.Actor("otto", roles=frozenset({"security_officer", "cab_member"}))
        self.sara = ic.Actor("sara", roles=frozenset({"service_manager"}))

    # -- the scheduler ---------------------------------------------------------------

    def at(self, fraction: float, hours: float = 10) -> datetime:
        """The instant ``fraction`` of the way through the span, at ``hours`` o'clock."""
        day = min(self.days - 1, int(fraction * self.days))
        return self.start + timedelta(days=day, hours=hours)

    def spawn(self, when: datetime, story: _Story) -> None:
        if when < self.end:
            heapq.heappush(self._queue, (max(when, self.now), self._seq, story))
            self._seq += 1

    def run(self, progress: Callable[[int, int], None] | None) -> None:
        day_done = 0
        while self._queue:
            when, _, story = heapq.heappop(self._queue)
            self.now = when
            while progress is not None and self.start + timedelta(days=day_done + 1) <= when:
                day_done += 1
                progress(day_done, self.days)
            try:
                nxt = next(story)
            except StopIteration:
                continue
            self.spawn(nxt, story)
        self.now = self.end
        if progress is not None:
            progress(self.days, self.days)

    # -- helpers -----------------------------------------------------------------------

    def pick(self, weighted: tuple[tuple[str, int], ...]) -> str:
        names = [n for n, _ in weighted]
        return self.rng.choices(names, weights=[w for _, w in weighted])[0]

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def fire(self, record_id: str, event: str, actor: ic.Actor, **fields: Any) -> ic.Record:
        return self.engine.fire(record_id, event, at=self.now, actor=actor, fields=fields)

    def state(self, record_id: str) -> str:
        return self.engine.get(record_id).state

    # -- background work -------------------------------------------------------------

    def ticker(self) -> _Story:
        """An SLA worker: ``tick`` every 15 minutes, ``deliver`` the outbox each hour."""
        count = 0
        while True:
            for signal in self.engine.tick(self.now):
                if isinstance(signal, SlaSignal):
                    self.signals[f"{signal.clock} {signal.kind}"] += 1
                    if signal.kind == "breach" and self.first_breached is None:
                        self.first_breached = signal.record_id
                elif isinstance(signal, TimerSignal):
                    self.timers += 1
            count += 1
            if count % 4 == 0:
                self.engine.deliver()
            yield self.now + timedelta(minutes=15)

    def intake(self) -> _Story:
        """Each day's new incidents, at random times of the working day."""
        day = self.start
        while day < self.end:
            weekend = day.weekday() >= 5
            count = self.rng.randint(0, 2) if weekend else self.rng.randint(6, 10)
            for _ in range(count):
                when = day + timedelta(hours=8) + self.minutes(0, 600)
                self.spawn(when, self.incident(self.new_incident_fields()))
            day += timedelta(days=1)
            yield day

    def new_incident_fields(self) -> dict[str, Any]:
        service = self.pick(_SERVICES)
        impact = self.rng.choices((1, 2, 3), weights=(5, 30, 65))[0]
        urgency = self.rng.choices((1, 2, 3), weights=(10, 40, 50))[0]
        return {
            "title": f"{service}: {self.rng.choice(_SYMPTOMS)}",
            "caller": self.rng.choice(_CALLERS),
            "impact": impact,
            "urgency": urgency,
            "channel": self.pick(_CHANNELS),
            "service": service,
            "category": service,
        }

    # -- incidents and surveys -------------------------------------------------------

    def incident(self, fields: Mapping[str, Any], existing: ic.Record | None = None) -> _Story:
        """One incident from intake to closure (or to the ``auto_close`` timer)."""
        if existing is None:
            opener = self.agents["dora"]
            if fields.get("channel") == "self_service":
                opener = ic.Actor(str(fields["caller"]), roles=frozenset({"requester"}))
            existing = self.engine.open("incident", at=self.now, actor=opener, fields=fields)
        inc = existing.id
        priority = int(existing.get("priority", 3))
        mean = 12.0 if self.improved else 40.0
        yield self.now + timedelta(
            minutes=self.rng.expovariate(1 / (mean / (2 if priority <= 2 else 1)))
        )
        agent = self.rng.choice(_AGENTS)
        self.fire(inc, "assign", self.agents[agent], assignee=agent)
        if self.rng.random() < 0.1:
            yield self.now + self.minutes(10, 60)
            agent = self.rng.choice([a for a in _AGENTS if a != agent])
            self.fire(inc, "assign", self.agents["dora"], assignee=agent)
        yield self.now + self.minutes(2, 25)
        self.fire(inc, "start", self.agents[agent])
        low, high = _PRIORITY_WORK_HOURS.get(priority, (4, 30))
        work = timedelta(hours=self.rng.uniform(low, high))
        if self.rng.random() < 0.15:
            yield self.now + work / 3
            self.fire(inc, "pend", self.agents[agent], pending_reason="awaiting_caller")
            yield self.now + self.minutes(60, 1200)
            self.fire(inc, "resume", self.agents[agent])
        yield self.now + work
        code = self.rng.choices(("fixed", "workaround"), weights=(85, 15))[0]
        self.fire(inc, "resolve", self.agents[agent], resolution_code=code,
                  resolution_notes="restored service; see the work notes")  # fmt: skip
        if self.rng.random() < 0.05:
            yield self.now + self.minutes(120, 1800)
            self.fire(inc, "reopen", self.agents[agent])
            yield self.now + work / 2
            self.fire(inc, "resolve", self.agents[agent], resolution_code="fixed",
                      resolution_notes="fixed for good after the reopen")  # fmt: skip
        if self.rng.random() < 0.35:
            return  # the caller never confirms: the auto_close timer closes it in 7 days
        yield self.now + self.minutes(240, 2880)
        if self.state(inc) != "resolved":
            return
        self.fire(inc, "close", self.agents[agent])
        if self.rng.random() < 0.45:
            self.spawn(self.now + self.minutes(30, 120), self.survey(inc, agent))

    def survey(self, incident_id: str, agent: str) -> _Story:
        """A satisfaction survey on a closed incident; a low score opens a follow-up."""
        inc = self.engine.get(incident_id)
        caller = str(inc.get("caller"))
        fb = self.engine.open("feedback", at=self.now, actor=self.agents["dora"], fields={
            "title": f"How did we do on {incident_id}?", "subject": incident_id,
            "respondent": caller, "kind": "survey", "service": inc.get("service"),
            "agent": agent, "channel": self.rng.choice(("online_questionnaire", "service_desk")),
            "expires_at": self.now + timedelta(days=5),
        })  # fmt: skip
        if self.rng.random() < 0.3:
            return  # no answer: the expire timer closes the survey
        yield self.now + self.minutes(60, 3 * 24 * 60)
        if self.state(fb.id) != "sent":
            return
        csat = self.rng.choices((1, 2, 3, 4, 5), weights=(3, 5, 10, 35, 47))[0]
        nps = min(10, max(0, csat * 2 + self.rng.choice((-1, 0, 0, 1))))
        fb, follow_up = self.engine.respond_to_survey(
            fb.id, at=self.now, actor=ic.Actor(caller), fields={"csat": csat, "nps": nps,
            "comment": "took too long" if csat <= 2 else "thanks"},
        )  # fmt: skip
        if follow_up is not None:
            self.spawn(self.now + self.minutes(5, 30), self.incident({}, follow_up))
        yield self.now + self.minutes(60, 600)
        self.fire(fb.id, "close", self.agents["dora"])

    # -- problems, changes, releases -------------------------------------------------

    def recurring_fault(self) -> _Story:
        """Three similar mail incidents, then a problem, a known error and a fix."""
        mail: list[str] = []
        for fraction in (0.10, 0.17, 0.23):
            yield max(self.now, self.at(fraction, 9))
            fields = {**self.new_incident_fields(), "service": "mail", "category": "mail",
                      "title": "mail: queue stalls, Outlook disconnected", "impact": 2}  # fmt: skip
            rec = self.engine.open(
                "incident", at=self.now, actor=self.agents["dora"], fields=fields
            )
            mail.append(rec.id)
            self.spawn(self.now, self.incident(fields, rec))
        yield self.now + timedelta(hours=3)
        prb = self.engine.open("problem", at=self.now, actor=self.pat, fields={
            "title": "Mail queue stalls under load", "impact": 2, "urgency": 2,
            "service": "mail", "category": "mail", "assignee": "pat"})  # fmt: skip
        for rid in mail:
            self.engine.link(rid, prb.id, "caused_by", at=self.now, actor=self.pat)
        self.fire(prb.id, "investigate", self.pat)
        yield self.now + timedelta(hours=20)
        cause = "the spool volume fills up; the relay stops accepting mail"
        self.fire(prb.id, "identify_root_cause", self.pat, root_cause=cause,
                  workaround="restart the spool service on MX1")  # fmt: skip
        ke = self.engine.open("known_error", at=self.now, actor=self.pat, fields={
            "title": "Mail queue stalls", "problem": prb.id, "service": "mail",
            "symptoms": "Outlook shows 'disconnected'; mail stays in the outbox",
            "root_cause": cause, "workaround": "restart the spool service on MX1"})  # fmt: skip
        self.engine.link(ke.id, prb.id, "documents", at=self.now, actor=self.pat)
        self.fire(ke.id, "publish", self.pat)
        chg = yield from self.normal_change(
            "Rotate the mail spool daily", "mail", "problem " + prb.id, links=[(prb.id, "fixes")]
        )
        self.fire(prb.id, "start_fix", self.pat, fix_change=chg)
        yield self.now + timedelta(hours=2)
        self.fire(prb.id, "resolve", self.pat, resolution_code="fix_applied",
                  corrective_action="daily spool rotation and a disk alert at 80 %")  # fmt: skip
        self.fire(ke.id, "update", self.pat, fix_change=chg, fix_status="deployed")
        yield self.now + timedelta(days=2)
        self.fire(prb.id, "close", self.pat, resolution_effect="verified_fixed")
        self.fire(ke.id, "retire", self.pat, reason="the fix is deployed")

    def normal_change(
        self, title: str, service: str, reason: str, *, links: Sequence[tuple[str, str]] = (),
        outcome: str = "successful",
    ) -> Generator[datetime, None, str]:  # fmt: skip
        """A normal change through assessment, two CAB approvals, a window and review.
        Returns (through ``yield from``) the change's id."""
        chg = self.engine.open("change", at=self.now, actor=self.chris, fields={
            "title": title, "description": title, "change_type": "normal", "service": service,
            "reason": reason, "impact_scope": f"{service} users", "owner": "chris"})  # fmt: skip
        for target, kind in links:
            self.engine.link(chg.id, target, kind, at=self.now, actor=self.chris)
        self.fire(chg.id, "submit", self.chris)
        self.fire(chg.id, "assess", self.chris, risk="medium",
                  impact_assessment=f"{service} unavailable for up to 30 minutes",
                  backout_plan="restore the previous configuration",
                  test_plan="run the staging checklist")  # fmt: skip
        for member in self.cab:
            yield self.now + self.minutes(60, 300)
            self.fire(chg.id, "approve", member)
        window = self.now.replace(hour=20, minute=0, second=0, microsecond=0)
        if window <= self.now:
            window += timedelta(days=1)
        self.fire(chg.id, "schedule", self.chris, planned_start=window,
                  planned_end=window + timedelta(hours=1))  # fmt: skip
        self.fire(chg.id, "update", self.chris, test_result="passed")
        yield window
        self.fire(chg.id, "implement", self.chris)
        yield self.now + self.minutes(20, 50)
        notes = {} if outcome == "successful" else {"review_notes": "report module slow at first"}
        self.fire(chg.id, "complete", self.chris, outcome=outcome, **notes)
        yield self.now + timedelta(hours=14)
        self.fire(chg.id, "close", self.chris, review_notes="implemented as planned")
        return chg.id

    def standard_changes(self) -> _Story:
        """A pre-approved workstation patch every week."""
        day = self.at(0.05, 13)
        while day < self.end:
            yield max(day, self.now)
            chg = self.engine.open("change", at=self.now, actor=self.chris, fields={
                "title": "Monthly workstation patches", "description": "OS and browser patches",
                "change_type": "standard", "template": _STANDARD_TEMPLATE,
                "service": "workplace", "reason": "vendor patches", "impact_scope": "workplace",
                "owner": "chris"})  # fmt: skip
            self.fire(chg.id, "submit", self.chris)
            start = self.now + timedelta(hours=6)
            self.fire(chg.id, "schedule", self.chris, planned_start=start,
                      planned_end=start + timedelta(hours=2), test_result="passed")  # fmt: skip
            yield start
            self.fire(chg.id, "implement", self.chris)
            yield self.now + timedelta(hours=1)
            self.fire(chg.id, "complete", self.chris, outcome="successful")
            self.fire(chg.id, "close", self.chris)
            day += timedelta(days=7)

    def security_incident(self) -> _Story:
        """A phishing campaign: NIST-style phases and an emergency change."""
        yield self.at(0.4, 11)
        sir = self.engine.open("security_incident", at=self.now, actor=self.hal, fields={
            "title": "Phishing mails with a fake login page", "category": "phishing",
            "reporter": "user07", "handler": "hal", "detected_at": self.now})  # fmt: skip
        yield self.now + self.minutes(10, 30)
        self.fire(sir.id, "analyse", self.hal)
        yield self.now + self.minutes(30, 60)
        self.fire(sir.id, "contain", self.hal, severity=3,
                  containment_actions="blocked the sender; purged the mails")  # fmt: skip
        chg = self.engine.open("change", at=self.now, actor=self.hal, fields={
            "title": "Block the phishing domain at the proxy", "description": "DNS and proxy",
            "change_type": "emergency", "service": "network", "reason": sir.id,
            "impact_scope": "outbound web", "owner": "hal", "risk": "low",
            "backout_plan": "remove the block rule"})  # fmt: skip
        self.engine.link(chg.id, sir.id, "follow_up_of", at=self.now, actor=self.hal)
        self.fire(chg.id, "submit", self.hal)
        yield self.now + self.minutes(5, 15)
        self.fire(chg.id, "approve", self.otto)
        self.fire(chg.id, "schedule", self.hal, planned_start=self.now,
                  planned_end=self.now + timedelta(minutes=30))  # fmt: skip
        self.fire(chg.id, "update", self.hal, test_result="passed")
        self.fire(chg.id, "implement", self.hal)
        yield self.now + self.minutes(10, 20)
        self.fire(chg.id, "complete", self.hal, outcome="successful",
                  review_notes="blocked within the hour")  # fmt: skip
        self.fire(sir.id, "recover", self.hal, recovery_actions="reset 3 passwords")
        yield self.now + timedelta(hours=20)
        self.fire(chg.id, "close", self.chris, review_notes="emergency justified: active campaign")
        self.fire(sir.id, "close", self.otto, lessons_learned="report-phish button works",
                  root_cause="no DMARC enforcement", personal_data_involved=False,
                  improvement_actions=("enforce DMARC",))  # fmt: skip

    def release(self) -> _Story:
        """ERP 2026.11: two normal changes shipped in one tested, approved release."""
        yield self.at(0.5, 9)
        rel = self.engine.open("release", at=self.now, actor=self.max, fields={
            "title": "ERP 2026.11", "release_version": "2026.11", "owner": "max",
            "strategy": "phased"})  # fmt: skip
        self.fire(rel.id, "build", self.max)
        first = yield from self.normal_change(
            "ERP patch 11.2", "erp", "vendor fixes", links=[(rel.id, "shipped_in")]
        )
        self.fire(rel.id, "start_testing", self.max)
        for level in TEST_LEVELS:
            yield self.now + timedelta(hours=3)
            self.fire(rel.id, "pass_test", self.max, test_level=level)
        self.fire(rel.id, "request_approval", self.max)
        second = yield from self.normal_change(
            "ERP month-end report fix", "erp", "finance request",
            links=[(rel.id, "shipped_in")], outcome="successful_with_issues",
        )  # fmt: skip
        self.fire(rel.id, "approve", self.max)
        for env in ("staging", "production"):
            yield self.now + timedelta(hours=2)
            self.fire(rel.id, "deploy", self.max, environment=env,
                      environment_check="passed", deployment_result="succeeded")  # fmt: skip
        self.fire(rel.id, "verify", self.max)
        yield self.now + timedelta(hours=20)
        self.fire(rel.id, "close", self.max, verification_result="passed",
                  verification_notes=f"{first} and {second} live")  # fmt: skip

    def outage(self) -> _Story:
        """A major incident from monitoring: mail is down for about 50 minutes."""
        yield self.at(0.6, 14)
        fields = {"title": "mail: relay down (monitoring)", "caller": "monitoring",
                  "impact": 1, "urgency": 1, "channel": "monitoring", "service": "mail",
                  "category": "mail", "major": True}  # fmt: skip
        rec = self.engine.open("incident", at=self.now, actor=ic.SYSTEM, fields=fields)
        yield self.now + timedelta(minutes=4)
        self.fire(rec.id, "assign", self.agents["sam"], assignee="sam")
        self.fire(rec.id, "start", self.agents["sam"])
        yield self.now + timedelta(minutes=46)
        self.fire(rec.id, "resolve", self.agents["sam"], resolution_code="fixed",
                  resolution_notes="failed over to MX2")  # fmt: skip
        yield self.now + timedelta(hours=2)
        self.fire(rec.id, "close", self.agents["sam"])

    # -- continual improvement ------------------------------------------------------

    def improvement(self) -> _Story:
        """One PDCA cycle on mean time to acknowledge (the seed's 20-minute target)."""
        if self.days < 2:
            return  # a cycle needs a baseline day and a day to check
        yield self.at(0.5, 7)
        window = self.now - self.start
        incidents = self.engine.find(process="incident", limit=1)
        if not incidents:
            return
        trigger = self.first_breached or incidents[0].id
        imp = self.engine.open("improvement", at=self.now, actor=self.sara, fields={
            "title": "Acknowledge incidents within 20 minutes", "trigger_kind": "sla_breach",
            "trigger": trigger, "lever": "process_optimisation"})  # fmt: skip
        self.engine.link(imp.id, trigger, "follow_up_of", at=self.now, actor=self.sara)
        self.fire(imp.id, "plan", self.sara, kpi="mtta", kpi_process="incident",
                  direction="lower", target_duration=timedelta(minutes=20), owner="sara",
                  due=self.end.date(), baseline_window=window,
                  sample_interval=min(window, timedelta(days=1)),
                  actions="a triage rota: one agent acknowledges every new incident")  # fmt: skip
        measured = self.engine.measure_improvement(imp.id, at=self.now, actor=self.sara)
        baseline = measured.get("baseline_duration")
        if baseline is None:
            self.fire(imp.id, "abandon", self.sara, reason="no incidents to measure a baseline")
            return
        if baseline <= timedelta(minutes=20):  # already there: aim at half the baseline
            half = timedelta(seconds=baseline.total_seconds() // 2)
            self.fire(imp.id, "update", self.sara, target_duration=half)
        self.fire(imp.id, "do", self.sara)
        self.improved = True
        yield self.end - timedelta(hours=1)
        rec = self.engine.measure_improvement(imp.id, at=self.now, actor=self.sara)
        if rec.get("attainment") in ("met", "partially_met"):
            self.fire(imp.id, "act", self.sara, decision="standardise")
            self.fire(imp.id, "close", self.sara,
                      standardisation="the triage rota is in the service desk runbook")  # fmt: skip
        else:
            self.fire(imp.id, "act", self.sara, decision="adjust",
                      root_cause_note="the rota was not staffed at lunchtime")  # fmt: skip


_SYMPTOMS: Final = (
    "cannot log in",
    "very slow",
    "error message on start",
    "connection drops",
    "printing fails",
    "password expired",
    "data missing",
)


def service_report(source: HistorySource, period: Period, **options: Any) -> Report:
    """The three standard reports (service metrics, problem statistics, customer
    satisfaction) over ``period`` as one document, read from one snapshot of
    ``source``'s histories. ``options`` go to every builder."""
    snapshot = loaded(source, None, until=period.end)
    parts = [Report.build(kind, snapshot, period, **options) for kind in KINDS]
    sections = tuple(
        attrs.evolve(section, heading=f"{part.title.split(',')[0]}: {section.heading}")
        for part in parts
        for section in part.sections
    )
    return Report(kind="service_report", title="Service report", period=period, sections=sections)


def _kpis(engine: ic.Engine, period: Period) -> tuple[KpiValue, ...]:
    return tuple(engine.kpi(name, period=period, **options) for name, options in _KPIS)


def run_demo(
    db: str | Path,
    *,
    seed: int = 7,
    days: int = 30,
    start: datetime = DEFAULT_START,
    report: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Simulate ``days`` days from ``start`` (aware) into a new SQLite store at ``db``.

    ``db`` must not exist yet (the demo never writes into someone's store). With
    ``report`` the HTML service report of the period is written next to it (same name,
    ``.html``). ``progress(done, days)`` is called after each simulated day. Raises
    ``ValidationError`` for ``days`` outside 1..366 or a naive ``start``, and
    ``StorageError`` when ``db`` exists.
    """
    if not 1 <= days <= 366:
        raise ic.ValidationError.single("$.days", "simulate between 1 and 366 days")
    if start.tzinfo is None:
        raise ic.ValidationError.single("$.start", "give an aware datetime (e.g. tzinfo=UTC)")
    path = Path(db)
    if path.exists():
        raise ic.StorageError(f"{str(path)!r} already exists; the demo writes a new store")
    outbox = _Outbox()
    change = configured_change(standard_templates=[_STANDARD_TEMPLATE])
    with ic.Engine.sqlite(path, processes=[change], plugins=[outbox]) as engine:
        month = _Month(engine, seed, start.astimezone(UTC), days)
        for story in (
            month.ticker(), month.intake(), month.recurring_fault(), month.standard_changes(),
            month.security_incident(), month.release(), month.outage(), month.improvement(),
        ):  # fmt: skip
            month.spawn(month.start, story)
        month.run(progress)
        engine.tick(month.end)
        engine.deliver()
        period = Period(month.start, month.end)
        counts = Counter(r.process for p in engine.catalog.names() for r in engine.find(process=p))
        changes = Counter(str(r.get("change_type")) for r in engine.find(process="change"))
        improvements = engine.find(process="improvement")
        written = None
        if report:
            written = path.with_suffix(".html")
            text = service_report(engine, period).to_html()
            written.write_text(text, encoding="utf-8")
        return DemoResult(
            db=path,
            seed=seed,
            period=period,
            records=dict(sorted(counts.items())),
            change_types=dict(sorted(changes.items())),
            kpis=_kpis(engine, period),
            sla_signals=dict(sorted(month.signals.items())),
            timers_fired=month.timers,
            notifications=dict(sorted(outbox.kinds.items())),
            improvement=improvements[0] if improvements else None,
            chain=engine.verify(),
            report=written,
        )
