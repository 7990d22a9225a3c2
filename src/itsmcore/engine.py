"""The Engine: open / fire / link / query over a storage port.

Why a thin shell: the rules live in the pure specs; the engine only loads, applies,
saves and notifies, in that order, as one unit of work:

1. load the record through the storage port (and check ``expected_version``), or
   take the snapshot this engine last saved or loaded (step 3 checks it is current);
2. apply the pure transition (:meth:`ProcessSpec.fire`), which validates everything;
3. save the new record, its event, its outbox notifications and its deadlines in one
   atomic ``append`` that re-checks the version (a stale writer gets
   :class:`~itsmcore.errors.ConcurrencyError` and nothing is written);
4. after the commit, :meth:`Engine.deliver` hands pending notifications to the
   ``itsmcore_notify`` hooks (at least once; right after each commit when
   ``auto_deliver`` is on). Before step 3, every ``itsmcore_authorize`` hook is asked
   (any deny raises ``Forbidden``) and a signing plugin signs each new chain head.

A failure at any step leaves the store as it was. The engine keeps no global state:
each instance has its own catalog copy, storage and plugins, so two engines in one
process never interfere. Time is always an argument (``at``/``now``).

Layout: :class:`Engine` is the one façade; this module holds its construction, the
commands (open, fire, link, tick) and the queries. The rest lives in
:mod:`itsmcore._engine`, as plain functions the methods delegate to:

- ``_engine/commit.py``: the unit of work (authorize, outbox, deadlines, signatures,
  one ``append``; ``_commit``, ``deadlines_for``, ids);
- ``_engine/outbox.py``: the notifications of a step and their delivery
  (``notifications_for``, ``deliver``);
- ``_engine/followups.py``: follow-ups opened, linked and referenced in one save
  (``open_follow_up``, ``respond_to_survey``);
- ``_engine/measure.py``: histories for KPIs and ``measure_improvement``;
- ``_engine/verify.py``: chain and signature audit (``verify``, :class:`ChainReport`);
- :mod:`itsmcore.monitoring_engine`: event management (``observe``, ``sample``,
  ``outages``); :mod:`itsmcore.improvement.sources`: ``kpi``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from itsmcore import monitoring_engine
from itsmcore._catalog import Catalog
from itsmcore._catalog import catalog as builtin_catalog
from itsmcore._engine import commit, followups, links, measure, outbox, verify
from itsmcore._engine.tick import run_tick
from itsmcore._engine.verify import ChainReport
from itsmcore._history_cache import HistoryCache
from itsmcore._record_cache import RecordCache
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.cadence import Cadence, CadenceOccurrence, check_cadences, run_cadences
from itsmcore.errors import ConcurrencyError, ItsmError, StorageError
from itsmcore.improvement.kpis import History, KpiValue
from itsmcore.improvement.sources import compute_kpi
from itsmcore.monitoring import MonitoringPolicy, Observation
from itsmcore.ports.plugins import PluginHost
from itsmcore.ports.storage import Claim, Deadline, Notification, Storage, appends_claims
from itsmcore.records import SYSTEM, Actor, Event, Link, Record, Step
from itsmcore.registry import Registry
from itsmcore.relations import DEFAULT_LINK_RULES, ImpactedItem, LinkRules
from itsmcore.relations import impact as impact_of
from itsmcore.sla.availability import Outage, Period
from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.sla.clock import ClockStatus
from itsmcore.sla.defaults import DEFAULT_POLICIES
from itsmcore.sla.policy import SlaPolicy
from itsmcore.sla.rules import SlaRules
from itsmcore.sla.signals import Signal
from itsmcore.spec import ProcessSpec, TimerSpec

__all__ = ["ChainReport", "Engine"]


class Engine:
    """An application service over a :class:`~itsmcore.ports.storage.Storage`.

    Build one with :meth:`in_memory`, :meth:`sqlite`, :meth:`from_url` or
    ``Engine(storage, ...)`` where ``storage`` is an adapter or a storage URL.
    ``processes`` adds (or adds versions of) process specs to this engine's own copy of
    the built-in catalog; a given spec with a built-in's name and version replaces it
    (``SPEC.with_options(...)`` configures a built-in process). ``link_rules`` are the
    link kinds :meth:`link` accepts (default
    :data:`~itsmcore.relations.DEFAULT_LINK_RULES`; extend it with
    ``DEFAULT_LINK_RULES.extended(LinkKind(...))``).

    ``plugins`` are objects with ``@itsmcore.hookimpl`` hooks (see
    :mod:`itsmcore.ports.hookspecs`); ``entry_points`` names setuptools entry points of
    group ``itsmcore`` to load (an allowlist: nothing loads unless named). They live in
    this engine's own plugin manager, :attr:`plugins`; their guards and effects extend
    :attr:`registry`, their processes this engine's catalog. Notifications wait in the
    outbox until :meth:`deliver` hands them to the ``itsmcore_notify`` hooks (call it
    from a worker or after each request); ``auto_deliver=True`` delivers right after
    each commit instead (one more write per save; a failing notifier is then logged and
    its notification stays pending). Raises ``PluginError`` for a bad plugin.

    ``policies`` are the SLA policies (every version; default
    :data:`~itsmcore.sla.DEFAULT_POLICIES`, a given list replaces it) and ``calendars``
    the business calendars by name, merged over :data:`~itsmcore.sla.DEFAULT_CALENDARS`;
    both are checked against the catalog (``SpecError``). See ``docs/sla-policies.md``.

    ``cadences`` are recurring schedules (:class:`~itsmcore.cadence.Cadence`) whose due
    occurrences :meth:`tick` opens, each exactly once; they are checked against the
    catalog (``SpecError``). See ``docs/cadences.md``.

    ``monitoring`` is the :class:`~itsmcore.monitoring.MonitoringPolicy` that
    :meth:`observe` and :meth:`sample` follow (default: the default severities, no
    rules, no thresholds). See ``docs/monitoring.md``.

    ``record_cache`` is how many record snapshots the engine keeps (0: none), so that
    :meth:`fire` on a record this engine just saved or loaded needs no re-load. Safe
    with any number of writers: the save checks the stored version and head, and a
    stale snapshot only costs a failed save and a re-load.
    """

    def __init__(
        self,
        storage: Storage | str,
        *,
        processes: Iterable[ProcessSpec] = (),
        catalog: Catalog | None = None,
        link_rules: LinkRules | None = None,
        plugins: Iterable[object] = (),
        entry_points: Iterable[str] = (),
        auto_deliver: bool = False,
        calendars: Mapping[str, BusinessCalendar] | None = None,
        policies: Iterable[SlaPolicy] | None = None,
        cadences: Iterable[Cadence] = (),
        monitoring: MonitoringPolicy | None = None,
        record_cache: int = 4096,
    ) -> None:
        self.plugins: PluginHost = PluginHost(plugins, entry_points=entry_points)
        self.registry: Registry = self.plugins.registry()
        self.auto_deliver = auto_deliver
        # Histories of records this engine saved, so SLA deadlines need no re-read.
        self._histories = HistoryCache()
        # Snapshots it saved or loaded, so a read-modify-write loop needs no re-load
        # (safe: every save checks the stored version and head).
        self._records = RecordCache(record_cache)
        self.link_rules: LinkRules = link_rules if link_rules is not None else DEFAULT_LINK_RULES
        self.catalog: Catalog = (catalog or builtin_catalog).copy()
        given: set[tuple[str, int]] = set()
        for spec in processes:
            # A given spec replaces the built-in of the same name and version (a host's
            # options, e.g. its request catalogue); two given specs must still agree.
            key = (spec.name, spec.version)
            self.catalog.register(spec, replace=key not in given)
            given.add(key)
        self.plugins.add_processes(self.catalog, self.registry)
        # Plugins' SLA policies add to the given (or default) ones; calendars given
        # here win over a plugin's of the same name.
        extra_policies = self.plugins.policies()
        if extra_policies:
            policies = [*(DEFAULT_POLICIES if policies is None else policies), *extra_policies]
        calendars = {**self.plugins.calendars(), **(calendars or {})}
        self.sla_rules: SlaRules = SlaRules(policies, calendars)
        self.sla_rules.check(self.catalog)
        self.cadences: tuple[Cadence, ...] = check_cadences(cadences, self.catalog)
        self.monitoring: MonitoringPolicy = (
            monitoring if monitoring is not None else MonitoringPolicy()
        )
        # This engine's last tick per cadence (a tick looks back to it; claims dedupe).
        self._cadence_marks: dict[str, datetime] = {}
        # Resolved last, so a failure above never leaves a store open.
        self.storage: Storage = (
            self.plugins.storage(storage) if isinstance(storage, str) else storage
        )
        # Whether a cadence occurrence can be claimed in the save that opens it.
        self._claims_in_append = appends_claims(self.storage)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def in_memory(cls, **options: Any) -> Engine:
        """An engine over the thread-safe in-memory adapter (tests, demos, caches)."""
        return cls(MemoryStorage(), **options)

    @classmethod
    def sqlite(cls, path: str | Path, **options: Any) -> Engine:
        """An engine over the embedded SQLite adapter at ``path`` (created if absent)."""
        from itsmcore.adapters.sqlite import SqliteStorage

        return _over(cls, SqliteStorage(path), options)

    @classmethod
    def postgres(cls, dsn: str, **options: Any) -> Engine:
        """An engine over the PostgreSQL adapter, for many workers on many hosts (needs
        ``pip install 'itsmcore[postgres]'``).

        ``dsn`` is a ``postgresql://`` URL (its query may carry the adapter's options) or
        a libpq ``key=value`` string. The adapter's options (``schema``, ``pool_size``,
        ``lock_timeout``, ``connect_timeout``, ``lease``, ``notify``: see
        :class:`~itsmcore.adapters.postgres.PostgresStorage`) go to the adapter, all
        others to the engine. See ``docs/deployment.md``."""
        from itsmcore.adapters.postgres import OPTIONS, PostgresStorage

        adapter = {key: options.pop(key) for key in list(options) if key in OPTIONS}
        return _over(cls, PostgresStorage.from_url(dsn, **adapter), options)

    @classmethod
    def from_url(cls, url: str, **options: Any) -> Engine:
        """An engine over the store ``url`` names: ``memory://``, ``sqlite:///path.db``,
        or a scheme a plugin in ``plugins=[...]`` serves (hook ``itsmcore_storage``).
        Raises ``StorageError`` for an unknown scheme or a malformed URL."""
        return cls(url, **options)

    def close(self) -> None:
        """Close the storage adapter."""
        self.storage.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands --------------------------------------------------------------------------

    def spec_of(self, record: Record) -> ProcessSpec:
        """The spec version ``record`` was opened under."""
        return self.catalog.get(record.process, record.spec_version)

    def open(
        self,
        process: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        record_id: str | None = None,
    ) -> Record:
        """Open a record of ``process``; the id is assigned (``INC-000001``) unless given.

        Raises ``NotFound`` (unknown process), ``ValidationError``, ``Forbidden``,
        ``GuardFailed``, or ``ConcurrencyError`` when a given id already exists.
        """
        return self._open(
            self.catalog.get(process), at=at, actor=actor, fields=fields, record_id=record_id
        )

    def _open(
        self,
        spec: ProcessSpec,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None,
        record_id: str | None = None,
        claims: Sequence[Claim] = (),
        outbox: Sequence[Notification] = (),
    ) -> Record:
        """Open a record of ``spec``, saving ``claims`` and ``outbox`` with it."""
        given_id = record_id is not None
        for _attempt in range(1000):
            rid = record_id if record_id is not None else self._new_id(spec)
            step = spec.open(record_id=rid, at=at, actor=actor, fields=fields)
            try:
                self._commit([step], claims=claims, outbox=outbox)
            except ConcurrencyError:
                if given_id:
                    raise
                continue  # a host-chosen id took this number; take the next one
            return step.record
        raise ConcurrencyError(0, 1, "could not find a free record id")  # pragma: no cover

    def fire(
        self,
        record_id: str,
        event: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> Record:
        """Apply ``event`` to the stored record and save it.

        ``expected_version`` is the version the caller's decision was based on; if the
        store holds another, ``ConcurrencyError`` is raised and nothing is written.
        Raises what :meth:`ProcessSpec.fire` raises, and ``NotFound``.
        """
        cached = self._records.get(record_id)
        if cached is not None and expected_version in (None, cached.version):
            # Fire on the snapshot this engine last saw; the save checks it is still
            # the stored one (version and head), so a stale one never overwrites.
            try:
                return self._fire_on(cached, event, at, actor, fields)
            except ConcurrencyError:
                self._records.discard(record_id)
                if expected_version is not None:
                    raise  # the caller's version is stale too: say so
                record = self.get(record_id)
            except StorageError:
                raise  # the save failed (it may even have committed): never retry it here
            except ItsmError:
                # Refused before saving: the answer stands only if the snapshot is current.
                record = self.get(record_id)
                if record.version == cached.version and record.head == cached.head:
                    raise
        else:
            record = self.get(record_id)
        if expected_version is not None and record.version != expected_version:
            raise ConcurrencyError(expected_version, record.version, record_id)
        return self._fire_on(record, event, at, actor, fields)

    def _fire_on(
        self,
        record: Record,
        event: str,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None,
    ) -> Record:
        """Apply ``event`` to ``record`` (a snapshot) and save the step."""
        step = self.spec_of(record).fire(record, event, at=at, actor=actor, fields=fields)
        self._commit([step])
        return step.record

    def link(
        self,
        source_id: str,
        target_id: str,
        kind: str,
        *,
        at: datetime,
        actor: Actor,
    ) -> Link:
        """Link two records (``kind`` such as ``caused_by``); audited on both sides.

        Both records get a ``link`` event in one atomic save. ``kind`` must be in
        :attr:`link_rules` and allow the two records' processes; an inverse name
        (``fixes`` for ``fixed_by``) is stored as its canonical kind with the ends swapped,
        and the returned :class:`Link` is that canonical form. Raises ``NotFound`` when
        either record is missing and ``ValidationError`` for an unknown kind, a process
        pair the kind does not allow (naming the allowed ones), or a duplicate link.
        """
        return links.link(self, source_id, target_id, kind, at=at, actor=actor)

    def unlink(
        self,
        source_id: str,
        target_id: str,
        kind: str,
        *,
        at: datetime,
        actor: Actor,
    ) -> Link:
        """Remove the ``kind`` link between two records; audited on both sides.

        The mirror of :meth:`link`: both records get an ``unlink`` event in one atomic
        save, carrying the link as it was added, and it leaves their ``links`` (so
        :meth:`impact` no longer follows it). ``kind`` may be the inverse name, as for
        :meth:`link`; a symmetric kind is found either way round. The process pair is
        not checked again: a link the rules allowed can always be removed. Returns the
        removed :class:`Link`. Raises ``NotFound`` when either record is missing and
        ``ValidationError`` for an unknown kind or when the two records have no such
        link.
        """
        return links.unlink(self, source_id, target_id, kind, at=at, actor=actor)

    def tick(self, now: datetime) -> list[Signal | CadenceOccurrence]:
        """Emit what came due by ``now``, exactly once across all workers, in order of
        ``due``: SLA warnings and breaches (:class:`~itsmcore.sla.SlaSignal`, outbox kind
        ``"sla"``), timers (:class:`~itsmcore.sla.TimerSignal`; a timer with an event
        fires it as :data:`~itsmcore.SYSTEM` through :meth:`fire`) and the cadences'
        occurrences (:class:`~itsmcore.cadence.CadenceOccurrence`: the record opened for
        each, outbox kind ``"cadence"``; see :func:`~itsmcore.cadence.run_cadences`).
        Only records with a deadline due are read. Returns what this call emitted;
        another worker's share is not in it. Raises ``ValidationError`` for a naive
        ``now``."""
        if not self.cadences:
            return list(run_tick(self.storage, self.sla_rules, self.spec_of, self._fire_timer, now))
        # Occurrences first, so the deadlines of the records they open (an overdue
        # ``due_at`` after a downtime) are handled by this same tick.
        opened = run_cadences(
            self.storage,
            self.cadences,
            self._open_occurrence,
            now,
            self._cadence_marks,
            atomic=self._claims_in_append,
        )
        signals = run_tick(self.storage, self.sla_rules, self.spec_of, self._fire_timer, now)
        return sorted([*signals, *opened], key=lambda item: item.due)

    def _open_occurrence(
        self,
        cadence: Cadence,
        occurrence: datetime,
        now: datetime,
        claims: Sequence[Claim],
        outbox: Sequence[Notification],
    ) -> Record:
        """Open the record of one cadence occurrence at the tick's ``now``, with its
        claim and notification in the same save (``ClaimTaken``: another worker has it)."""
        spec = self.catalog.get(cadence.process)
        fields = cadence.opening_fields(spec, occurrence)
        return self._open(
            spec, at=now, actor=cadence.actor, fields=fields, claims=claims, outbox=outbox
        )

    def _fire_timer(self, record: Record, timer: TimerSpec, at: datetime) -> Record:
        assert timer.event is not None
        return self.fire(
            record.id,
            timer.event,
            at=at,
            actor=SYSTEM,
            fields=timer.fields,
            expected_version=record.version,
        )

    # -- follow-ups (closed loops: feedback, scheduled-activity findings, certificates) ---

    def open_follow_up(
        self,
        source_id: str,
        process: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        event: str = "record_follow_up",
        ref_field: str = "follow_up",
        kind: str = "follow_up_of",
        expected_version: int | None = None,
    ) -> Record:
        """Open a ``process`` record following up ``source_id``, link it ``kind`` the
        source, and record its id on the source (``event`` with ``{ref_field: id}``), in
        one atomic save; return the follow-up. E.g. a scheduled activity's finding
        (``open_follow_up(act_id, "problem", ...)``) or a passed training's certificate
        (``event="certify", ref_field="certification"``). Raises what :meth:`open`,
        :meth:`fire` and :meth:`link` raise (``InvalidTransition`` when the source cannot
        take ``event`` now); nothing is stored then."""
        return followups.open_follow_up(
            self, source_id, process, at=at, actor=actor, fields=fields, event=event,
            ref_field=ref_field, kind=kind, expected_version=expected_version,
        )  # fmt: skip

    def respond_to_survey(
        self,
        feedback_id: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any],
        follow_up_fields: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> tuple[Record, Record | None]:
        """Store a survey response (``respond`` on a ``feedback`` record) and, when the
        score asks for it (``follow_up_required``), open the follow-up in the same
        atomic save: a record of ``options["follow_up_process"]`` (default
        ``incident``) with :func:`~itsmcore.processes.feedback.follow_up_fields` merged
        under ``follow_up_fields``, linked ``follow_up_of`` the feedback and recorded in
        its ``follow_up``. Returns ``(feedback, follow-up or None)``. Raises what
        :meth:`fire` and :meth:`open` raise; nothing is stored then."""
        return followups.respond_to_survey(
            self, feedback_id, at=at, actor=actor, fields=fields,
            follow_up_fields=follow_up_fields, expected_version=expected_version,
        )  # fmt: skip

    def register(self, spec: ProcessSpec) -> None:
        """Add ``spec`` (a new process, or a new version of one) to this engine's catalog.

        New records get the latest version; records already open keep the version they
        were opened with. Registering different content under an existing name and
        version is a ``SpecError`` (give the new spec a higher version); so is a spec
        this engine's SLA policies, timers' calendars or cadences cannot work with (a
        state, event or field they name is missing), checked as at construction. On a
        ``SpecError`` the catalog is unchanged.
        """
        trial = self.catalog.copy()
        trial.register(spec)
        self.sla_rules.check(trial)
        check_cadences(self.cadences, trial)
        self.catalog.register(spec)

    # -- monitoring (event management; see docs/monitoring.md) -----------------------------

    def observe(self, observation: Observation) -> Record | None:
        """Record one monitoring observation; returns the incident it opened or
        changed, or ``None`` (an informational severity, or a clearing with no open
        incident).

        The first firing of ``observation.key`` opens an incident (channel
        ``monitoring``, impact and urgency from :attr:`monitoring`'s severities,
        linked ``affects`` to the CI its ``ci`` label names when that record exists);
        further firings while it is open add to it (``alert_count``,
        ``alert_last_seen``), never a second one, even with concurrent observers; a
        clearing records ``alert_cleared_at`` and, when the rule says
        ``auto_resolve``, resolves it as :data:`~itsmcore.SYSTEM`. After the incident
        is closed, the key opens a new one. See :mod:`itsmcore.monitoring_engine`.
        Raises ``ValidationError``, ``Forbidden``, and ``ConcurrencyError`` only when
        the incident kept changing under it for many attempts.
        """
        return monitoring_engine.observe(self, observation)

    def sample(
        self,
        metric: str,
        value: float,
        *,
        at: datetime,
        labels: Mapping[str, str] | None = None,
        mode: str = "passive",
    ) -> list[Observation]:
        """Feed one metric sample to :attr:`monitoring`'s threshold rules and
        :meth:`observe` what they emit; returns those observations (a rule fires once
        per breach lasting its ``for``, and clears once). Each series' state is kept
        in the store, so several workers agree; a sample that changes no state writes
        nothing. Raises ``ValidationError`` (a non-finite value, a naive ``at``)."""
        return monitoring_engine.sample(self, metric, value, at=at, labels=labels, mode=mode)

    def outages(self, service: str, period: Period) -> list[Outage]:
        """The outages of ``service`` (a service record id) overlapping ``period``:
        unplanned from its major or ``outage`` incidents, planned from its authorised
        changes' windows, computed from events before the period's end. Pass them to
        :func:`itsmcore.sla.availability.availability`. See
        :mod:`itsmcore.monitoring.outages`."""
        return monitoring_engine.outages(self, service, period)

    # -- queries ---------------------------------------------------------------------------

    def impact(
        self,
        record_id: str,
        *,
        kinds: Iterable[str] | None = None,
        max_depth: int | None = None,
    ) -> tuple[ImpactedItem, ...]:
        """Everything that depends on ``record_id`` (usually a configuration item),
        transitively, each with the path of record ids from ``record_id`` to it.

        If A depends_on (or runs_on) B, ``impact(B)`` contains A with path ``(B, A)``; a
        whole depends on its parts (``part_of``); ``connected_to`` works both ways. See
        :func:`itsmcore.relations.impact`. Raises ``NotFound`` and ``ValidationError``.
        """
        return impact_of(
            record_id, self.storage.load, rules=self.link_rules, kinds=kinds, max_depth=max_depth
        )

    def get(self, record_id: str) -> Record:
        """The latest version of a record (always read from the store). Raises
        ``NotFound``."""
        record = self.storage.load(record_id)
        self._records.put(record)
        return record

    def history(self, record_id: str) -> list[Event]:
        """The record's events, versions 1..n. Raises ``NotFound``."""
        return self.storage.history(record_id)

    def sla(self, record_id: str, now: datetime) -> list[ClockStatus]:
        """The SLA clocks of a record at ``now`` (its current cycle per clock of every
        policy covering it), computed from its events alone. Raises ``NotFound`` and
        ``ValidationError`` (naive ``now``)."""
        record = self.storage.load(record_id)
        events = self.storage.history(record_id)[: record.version]
        return self.sla_rules.statuses(events, self.spec_of(record), now)

    def find(
        self,
        *,
        process: str | None = None,
        state: str | Sequence[str] | None = None,
        limit: int | None = None,
        **fields: Any,
    ) -> list[Record]:
        """Records by process, state(s) and exact field values, oldest first."""
        return self.storage.find(process=process, state=state, fields=fields, limit=limit)

    # -- measurement (KPIs and improvement cycles; see docs/kpis.md and docs/pdca.md) ------

    def histories(
        self, *, processes: Iterable[str] | None = None, until: datetime | None = None
    ) -> list[History]:
        """The event histories of the records of ``processes`` (every process when
        ``None``) opened before ``until`` (all when ``None``), oldest first: the input
        of :func:`itsmcore.improvement.kpis.compute` and of the reports. Reads one
        history per record. Raises ``ValidationError`` for a naive ``until``."""
        return measure.histories(self.storage, processes=processes, until=until)

    def kpi(self, name: str, *, period: Period, **filters: Any) -> KpiValue:
        """KPI ``name`` (see :func:`itsmcore.improvement.kpis.names`) over ``period``,
        from the stored histories: e.g. ``engine.kpi("mttr", period=Period.month(2026,
        11, tz))``. ``filters`` are the options of
        :func:`~itsmcore.improvement.kpis.compute` (``service``, ``process``,
        ``calendar``, ``clock``...); this engine's catalog and SLA rules are used
        unless given. Only events before the period's end count, so a past period is
        reproducible. Raises ``NotFound`` (unknown KPI) and ``ValidationError``."""
        return compute_kpi(self, name, period=period, **filters)

    def measure_improvement(
        self,
        record_id: str,
        *,
        at: datetime,
        actor: Actor,
        expected_version: int | None = None,
    ) -> Record:
        """Measure an ``improvement`` record's KPI from the stored histories and record
        it: while ``planning``, the baseline (event ``measure_baseline``); while
        ``doing``, the post-measurement with the target check and the SPC verdict
        (event ``check``, to ``checking``). See :mod:`itsmcore.improvement.pdca` for
        the windows. The values reach the record as system fields (derived fields no
        caller can set), which is how the process knows the engine measured them.

        Raises ``NotFound``, ``ConcurrencyError``, ``InvalidTransition`` (another
        state), ``ValidationError`` (no KPI named, an empty window, a KPI option
        missing) and what :meth:`fire` raises."""
        return measure.measure_improvement(
            self, record_id, at=at, actor=actor, expected_version=expected_version
        )

    def verify(self) -> ChainReport:
        """Verify every record's hash chain, that its stored head matches, and, when a
        signing plugin (``itsmcore_sign``) is registered, that the head's stored
        signature verifies (so a truncated or rewritten tail is detected).

        Safe while others write: a record that changed between reads is read again.
        """
        return verify.verify_all(self.storage, self.plugins)

    # -- notifications ---------------------------------------------------------------------

    def deliver(self, *, limit: int = 100) -> int:
        """Hand pending outbox notifications to the ``itsmcore_notify`` hooks, oldest
        first, and mark each delivered once every hook returned. Returns how many.

        At least once: a crash before the mark redelivers (use ``Notification.id`` to
        de-duplicate); two processes delivering at once may both deliver one. Raises
        ``PluginError`` when a notifier fails: the notifications before it are marked
        delivered, it and the later ones stay pending for the next call.
        """
        return outbox.deliver(self.storage, self.plugins, limit=limit)

    # -- internals -------------------------------------------------------------------------

    def _new_id(self, spec: ProcessSpec) -> str:
        return commit.new_id(self.storage, spec)

    def notifications_for(self, step: Step) -> list[Notification]:
        """The outbox rows of one step: one ``event`` notification, stable id
        ``event:<record id>:<version>``."""
        return outbox.notifications_for(step)

    def deadlines_for(
        self, record: Record, events: Sequence[Event] | None = None
    ) -> list[Deadline]:
        """The instants at which ``tick`` must look at ``record`` again: per SLA clock its
        earliest threshold crossing, per applicable timer its due instant. ``events`` is
        the record's history up to ``record.version`` (loaded from storage if omitted)."""
        return commit.deadlines_for(self, record, events)

    def _commit(
        self,
        steps: Sequence[Step],
        *,
        claims: Sequence[Claim] = (),
        outbox: Sequence[Notification] = (),
    ) -> None:
        """Authorize and save ``steps`` as one unit of work (see :mod:`itsmcore._engine.commit`)."""
        commit.commit(self, steps, claims=claims, outbox=outbox)


def _over(cls: type[Engine], storage: Storage, options: dict[str, Any]) -> Engine:
    """``cls(storage, **options)``, closing ``storage`` when the engine cannot be built
    (a bad option, plugin or spec), so a failed construction leaves no store open."""
    try:
        return cls(storage, **options)
    except BaseException:
        storage.close()
        raise
